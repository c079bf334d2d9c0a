import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { UsersModule } from '../users/users.module';
import { SessionKeyModule } from './session-key.store';
import { WechatApiClient } from './wechat-api.client';
import { WechatCrypto } from './wechat-crypto';
import { WechatLoginService } from './wechat-login.service';
import { WechatController } from './wechat.controller';

/** Everything WeChat: its HTTP API client, its crypto, and the login flow built on them. */
@Module({
  imports: [AuthModule, UsersModule, SessionKeyModule],
  controllers: [WechatController],
  providers: [WechatApiClient, WechatCrypto, WechatLoginService],
  exports: [WechatApiClient, WechatCrypto],
})
export class WechatModule {}
