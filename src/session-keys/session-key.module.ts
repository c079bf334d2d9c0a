import { Module } from '@nestjs/common';
import { SessionKeyRepository } from './session-key.repository';
import { SessionKeyStore } from './session-key.store';

/** Its own module: the login flow stores keys, account deletion and privacy events drop them. */
@Module({ providers: [SessionKeyRepository, SessionKeyStore], exports: [SessionKeyStore] })
export class SessionKeyModule {}
