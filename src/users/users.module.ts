import { Module } from '@nestjs/common';
import { SessionKeyModule } from '../session-keys/session-key.module';
import { IdentityLinker } from './identity-linker';
import { TokenRevocations } from './token-revocations';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { WechatIdentityRepository } from './wechat-identity.repository';
import { WechatUserRepository } from './wechat-user.repository';

@Module({
  imports: [SessionKeyModule],
  controllers: [UsersController],
  providers: [WechatUserRepository, WechatIdentityRepository, IdentityLinker, TokenRevocations, UsersService],
  exports: [UsersService],
})
export class UsersModule {}
