import { Injectable, Logger } from '@nestjs/common';
import { AppCache } from '../cache/app-cache';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedLock } from '../cache/distributed-lock';
import { InjectWechatSettings } from '../config/config.module';
import type { WechatSettings } from '../config/configuration';
import { WechatApiClient } from './wechat-api.client';
import { WechatBadResponseError, WechatUnavailableError } from './wechat.errors';

/** Renew this long before WeChat's expiry, so a token is never used in its last minutes. */
const EXPIRY_MARGIN_S = 300;
/** WeChat allows a forced refresh 20 times a day, 30 s apart. */
const FORCED_REFRESH_INTERVAL_MS = 30_000;
const POLL_MS = 25;

/**
 * The server access_token from `POST /cgi-bin/stable_token`, cached until shortly
 * before expiry. Single flight: concurrent needs share one upstream call in this process (a shared
 * promise) and across instances (a lock in the shared cache; the others wait for the cached token).
 */
@Injectable()
export class AccessTokenService {
  private readonly logger = new Logger(AccessTokenService.name);
  private readonly cacheKey: string;
  private readonly forcedKey: string;
  private readonly lockName: string;
  private readonly lockTtlMs: number;
  private pending?: Promise<string>;
  private replacing?: Promise<string>;

  constructor(
    private readonly api: WechatApiClient,
    private readonly cache: AppCache,
    private readonly lock: DistributedLock,
    @InjectWechatSettings() private readonly settings: WechatSettings,
  ) {
    this.cacheKey = `at:${settings.appId}`;
    this.forcedKey = `at-forced:${settings.appId}`;
    this.lockName = `access-token:${settings.appId}`;
    // Long enough for one call with its errcode -1 retries; short enough that a crashed holder
    // does not stall the others for long.
    this.lockTtlMs = settings.timeoutMs * 3 + 1000;
  }

  /** A valid access token: from the cache, or fetched once for every concurrent caller. */
  async token(): Promise<string> {
    const cached = await this.cache.get<string>(this.cacheKey);
    if (cached) return cached;
    return (this.pending ??= this.obtain(undefined).finally(() => (this.pending = undefined)));
  }

  /**
   * WeChat refused `rejected` (40001, 42001, 40014): drop it and get a new one, once for every
   * caller that saw the same refusal, here and on other instances.
   */
  async replace(rejected: string): Promise<string> {
    return (this.replacing ??= this.obtain(rejected).finally(() => (this.replacing = undefined)));
  }

  private async obtain(rejected: string | undefined): Promise<string> {
    const deadline = Date.now() + this.lockTtlMs * 2;
    for (;;) {
      const cached = await this.cache.get<string>(this.cacheKey);
      if (cached && cached !== rejected) return cached;
      const lease = await this.lock.tryAcquire(this.lockName, this.lockTtlMs);
      if (lease) {
        try {
          // Another holder may have finished between our read and our lock.
          const latest = await this.cache.get<string>(this.cacheKey);
          if (latest && latest !== rejected) return latest;
          return await this.fetch(rejected !== undefined);
        } finally {
          await this.lock.release(this.lockName, lease).catch(() => undefined);
        }
      }
      if (Date.now() > deadline) throw new WechatUnavailableError('timed out waiting for the access token held by another instance');
      await sleep(POLL_MS);
    }
  }

  private async fetch(afterRejection: boolean): Promise<string> {
    let force = false;
    if (afterRejection) {
      await this.cache.del(this.cacheKey);
      const lastForced = await this.cache.get<number>(this.forcedKey);
      force = !lastForced || Date.now() - lastForced >= FORCED_REFRESH_INTERVAL_MS;
    }
    const body = await this.api.call<{ access_token?: unknown; expires_in?: unknown }>({
      method: 'POST',
      path: '/cgi-bin/stable_token',
      body: { grant_type: 'client_credential', appid: this.settings.appId, secret: this.settings.secret, force_refresh: force },
    });
    const token = body.access_token;
    const expiresIn = Number(body.expires_in);
    if (typeof token !== 'string' || !token || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new WechatBadResponseError('stable_token answer lacks access_token or expires_in');
    }
    if (force) await this.cache.set(this.forcedKey, Date.now(), FORCED_REFRESH_INTERVAL_MS);
    const ttlSeconds = Math.max(expiresIn - EXPIRY_MARGIN_S, Math.floor(expiresIn / 2), 1);
    await this.cache.set(this.cacheKey, token, ttlSeconds * 1000);
    this.logger.log(`new access token from WeChat (${force ? 'forced refresh, ' : ''}valid ${expiresIn} s, cached ${ttlSeconds} s)`);
    return token;
  }
}
