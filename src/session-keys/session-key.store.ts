import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppCache } from '../cache/app-cache';
import { InjectCacheSettings } from '../config/config.module';
import type { CacheSettings } from '../config/configuration';

/** WeChat keeps a session_key valid for a few days at most; after that decryption needs a new login. */
const SESSION_KEY_TTL_MS = 3 * 24 * 3600_000;
const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * The session_key of each identity's (mini program + openid) last login, kept on the server only: it decrypts later legacy
 * phone data and answers `GET /wechat/session`. It is never returned, logged or put in a token.
 *
 * Session keys are data, not cache: with Redis they are plain keys beside the rest (Redis should not
 * run with an eviction policy that drops them); without Redis they live in a map of their own, which
 * ordinary traffic never evicts (only their 3-day expiry removes them), unlike the bounded caches.
 */
@Injectable()
export class SessionKeyStore implements OnModuleDestroy {
  private readonly local?: Map<string, { key: string; until: number }>;
  private readonly sweeper?: NodeJS.Timeout;

  constructor(
    private readonly cache: AppCache,
    @InjectCacheSettings() settings: CacheSettings,
  ) {
    if (!settings.redisUrl) {
      this.local = new Map();
      this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
      this.sweeper.unref();
    }
  }

  async save(appId: string, openId: string, sessionKey: string): Promise<void> {
    const k = key(appId, openId);
    if (this.local) {
      this.local.delete(k); // re-inserted last: the map stays ordered by expiry for the sweep
      this.local.set(k, { key: sessionKey, until: Date.now() + SESSION_KEY_TTL_MS });
    } else await this.cache.set(k, sessionKey, SESSION_KEY_TTL_MS);
  }

  async get(appId: string, openId: string): Promise<string | undefined> {
    if (this.local) {
      const held = this.local.get(key(appId, openId));
      return held && held.until > Date.now() ? held.key : undefined;
    }
    // A key stored by the one-app version (its key named the openid only) serves until the next login.
    return (await this.cache.get<string>(key(appId, openId))) ?? (await this.cache.get<string>(oneAppKey(openId))) ?? undefined;
  }

  /** Drops the key of an identity (and the one-app version's key of that openid); no app: only the latter. */
  async drop(appId: string | undefined, openId: string): Promise<void> {
    if (this.local) {
      if (appId !== undefined) this.local.delete(key(appId, openId));
      return;
    }
    if (appId !== undefined) await this.cache.del(key(appId, openId));
    await this.cache.del(oneAppKey(openId));
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [openId, held] of this.local!) {
      if (held.until > now) break; // insertion order is expiry order
      this.local!.delete(openId);
    }
  }
}

/** Per app: an appid holds no `:` (see APP_ID_PATTERN), so no two identities share a key. */
const key = (appId: string, openId: string) => `sk:${appId}:${openId}`;
const oneAppKey = (openId: string) => `sk:${openId}`;
