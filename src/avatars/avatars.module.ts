import { Module } from '@nestjs/common';
import { AvatarImageProcessor } from './avatar-image.processor';
import { AvatarStore } from './avatar.store';
import { AvatarsController } from './avatars.controller';

/** Uploaded avatars: re-encoding, storage in PostgreSQL, and the public `GET /avatars/{id}`. */
@Module({
  controllers: [AvatarsController],
  providers: [AvatarImageProcessor, AvatarStore],
  exports: [AvatarImageProcessor, AvatarStore],
})
export class AvatarsModule {}
