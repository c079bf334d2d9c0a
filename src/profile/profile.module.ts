import { Module } from '@nestjs/common';
import { AvatarsModule } from '../avatars/avatars.module';
import { ContentSecurityModule } from '../content-security/content-security.module';
import { UsersModule } from '../users/users.module';
import { AvatarReviewRepository } from './avatar-review.repository';
import { AvatarReviewService } from './avatar-review.service';
import { ProfileController } from './profile.controller';
import { ProfileService } from './profile.service';

/**
 * Today's profile flow (nickname input, chooseAvatar upload) with WeChat's content checks.
 * The push receiver hands `wxa_media_check` verdicts to AvatarReviewService (its MediaCheckVerdicts hook).
 */
@Module({
  imports: [UsersModule, AvatarsModule, ContentSecurityModule],
  controllers: [ProfileController],
  providers: [ProfileService, AvatarReviewService, AvatarReviewRepository],
  exports: [AvatarReviewService],
})
export class ProfileModule {}
