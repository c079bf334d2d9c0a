import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { HandledPushMessages } from './handled-push-message.repository';
import { PushHooksModule } from './media-check-verdicts';
import { PushClock } from './push-clock';
import { PushEventsService } from './push-events.service';
import { PushReceiver } from './push-receiver';
import { PushRequestVerifier } from './push-request-verifier';
import { PushSignatures } from './push-signature.repository';
import { PushController } from './push.controller';

/** WeChat message push: the verified receiver (GET/POST /wechat/push) and the events it handles. */
@Module({
  imports: [UsersModule, PushHooksModule],
  controllers: [PushController],
  providers: [PushClock, PushRequestVerifier, PushReceiver, PushEventsService, HandledPushMessages, PushSignatures],
})
export class PushModule {}
