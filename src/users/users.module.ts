import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SessionKeyModule } from '../wechat/session-key.store';
import { AccountService } from './account.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [AuthModule, SessionKeyModule],
  controllers: [UsersController],
  providers: [UsersService, AccountService],
  exports: [UsersService, AccountService],
})
export class UsersModule {}
