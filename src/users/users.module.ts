import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SessionKeyModule } from '../wechat/session-key.store';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [AuthModule, SessionKeyModule],
  controllers: [UsersController],
  providers: [UsersService],
  exports: [UsersService],
})
export class UsersModule {}
