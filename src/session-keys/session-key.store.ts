import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AppCache } from '../cache/app-cache';
import { InjectCacheSettings, InjectDataProtectionSettings } from '../config/config.module';
import type { CacheSettings } from '../config/configuration';
import type { DataProtectionSettings } from '../config/profile-settings';
import { FieldCipher } from '../data-protection/field-cipher';
import { type SealedSessionKey, SessionKeyRepository } from './session-key.repository';

/** WeChat keeps a session_key valid for a few days at most; after that decryption needs a new login. */
const SESSION_KEY_TTL_MS = 3 * 24 * 3600_000;
const SWEEP_EVERY_MS = 10 * 60_000;
/** Bound into each sealed key: an envelope moved to another column does not open. */
const PURPOSE = 'wechat_session_key.session_key';

/**
 * The session_key of each identity's (mini program + openid) last login, kept on the server only: it decrypts later legacy
 * phone data and answers `GET /wechat/session`. It is never returned, logged or put in a token.
 *
 * Session keys are data, not cache. With Redis they are plain keys beside the rest, shared by every
 * instance (Redis should not run with an eviction policy that drops them). Without Redis they are
 * rows of `wechat_session_key`, sealed with DATA_ENCRYPTION_KEY: no amount of other users' traffic
 * evicts them, they survive a restart, and an instance's memory does not grow with its users.
 */
@Injectable()
export class SessionKeyStore implements OnModuleDestroy {
  private readonly logger = new Logger(SessionKeyStore.name);
  private readonly inDatabase: boolean;
  private readonly cipher: FieldCipher;
  private readonly sweeper?: NodeJS.Timeout;

  constructor(
    private readonly cache: AppCache,
    private readonly rows: SessionKeyRepository,
    @InjectCacheSettings() settings: CacheSettings,
    @InjectDataProtectionSettings() dataProtection: DataProtectionSettings,
  ) {
    this.inDatabase = !settings.redisUrl;
    this.cipher = new FieldCipher(dataProtection);
    if (this.inDatabase) {
      this.sweeper = setInterval(() => void this.rows.deleteExpired().catch((err) => this.logger.warn(`expired session keys not removed: ${(err as Error).message}`)), SWEEP_EVERY_MS);
      this.sweeper.unref();
    }
  }

  /**
   * Keeps the session key of a login. With Redis it is stored now, and `undo` drops it again if the
   * login then fails. Without Redis it is sealed and returned as `row`, which the login statement
   * writes with the identity's row: it lands with the login or not at all, with no round trip of its own.
   */
  async keepForLogin(appId: string, openId: string, sessionKey: string): Promise<{ row?: SealedSessionKey; undo(): Promise<void> }> {
    if (this.inDatabase) return { row: { sealed: this.cipher.seal(sessionKey, PURPOSE), expiresAt: new Date(Date.now() + SESSION_KEY_TTL_MS) }, undo: async () => undefined };
    await this.cache.set(key(appId, openId), sessionKey, SESSION_KEY_TTL_MS);
    return { undo: () => this.drop(appId, openId) };
  }

  async get(appId: string, openId: string): Promise<string | undefined> {
    // In Redis, a key stored by the one-app version (its key named the openid only) serves until the next login.
    if (!this.inDatabase) return (await this.cache.get<string>(key(appId, openId))) ?? (await this.cache.get<string>(oneAppKey(openId))) ?? undefined;
    const sealed = await this.rows.find(appId, openId);
    if (sealed === undefined) return undefined;
    try {
      return this.cipher.open(sealed, PURPOSE);
    } catch {
      // Sealed under a key that is no longer configured: as good as expired (the next login replaces it).
      return undefined;
    }
  }

  /** Drops the key of an identity (in Redis also the one-app version's key of that openid); no app: only the latter. */
  async drop(appId: string | undefined, openId: string): Promise<void> {
    if (this.inDatabase) {
      if (appId !== undefined) await this.rows.delete(appId, openId);
      return;
    }
    if (appId !== undefined) await this.cache.del(key(appId, openId));
    await this.cache.del(oneAppKey(openId));
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }
}

/** Per app: an appid holds no `:` (see APP_ID_PATTERN), so no two identities share a key. */
const key = (appId: string, openId: string) => `sk:${appId}:${openId}`;
const oneAppKey = (openId: string) => `sk:${openId}`;
