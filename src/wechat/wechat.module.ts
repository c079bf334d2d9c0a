import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { UsersModule } from '../users/users.module';
import { AccessTokenService } from './access-token.service';
import { SessionCheckService } from './session-check.service';
import { SessionKeyModule } from '../session-keys/session-key.module';
import { WechatApiClient } from './wechat-api.client';
import { WechatCrypto } from './wechat-crypto';
import { WechatLoginService } from './wechat-login.service';
import { WechatPhoneService } from './wechat-phone.service';
import { WechatServerApi } from './wechat-server-api';
import { WechatController } from './wechat.controller';

/** Everything WeChat: its HTTP API client, its crypto, the access token, and the flows built on them. */
@Module({
  imports: [AuthModule, UsersModule, SessionKeyModule],
  controllers: [WechatController],
  providers: [WechatApiClient, WechatCrypto, AccessTokenService, WechatServerApi, WechatLoginService, WechatPhoneService, SessionCheckService],
  // Business modules build their own WeChat server calls on WechatServerApi.
  exports: [WechatApiClient, WechatCrypto, AccessTokenService, WechatServerApi],
})
export class WechatModule {}
