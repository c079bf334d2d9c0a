import { Injectable, Module } from '@nestjs/common';
import { AppCache } from '../cache/app-cache';

/** WeChat keeps a session_key valid for a few days at most; after that decryption needs a new login. */
const SESSION_KEY_TTL_MS = 3 * 24 * 3600_000;

/**
 * The session_key of each openid's last login, kept on the server only (CONTRACT §3 step 5):
 * it decrypts later legacy phone data and answers `GET /wechat/session`. It is never returned,
 * logged or put in a token.
 */
@Injectable()
export class SessionKeyStore {
  constructor(private readonly cache: AppCache) {}

  async save(openId: string, sessionKey: string): Promise<void> {
    await this.cache.set(key(openId), sessionKey, SESSION_KEY_TTL_MS);
  }

  async get(openId: string): Promise<string | undefined> {
    return (await this.cache.get<string>(key(openId))) ?? undefined;
  }

  async drop(openId: string): Promise<void> {
    await this.cache.del(key(openId));
  }
}

const key = (openId: string) => `sk:${openId}`;

/** Its own module because both the login flow and account deletion need it. */
@Module({ providers: [SessionKeyStore], exports: [SessionKeyStore] })
export class SessionKeyModule {}
