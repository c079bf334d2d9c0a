import { Injectable, Logger } from '@nestjs/common';
import { AppCache } from '../cache/app-cache';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedLock } from '../cache/distributed-lock';
import { InjectWechatSettings } from '../config/config.module';
import type { WechatSettings } from '../config/configuration';
import { WechatApps } from '../wechat-apps/wechat-apps';
import { WechatApiClient } from './wechat-api.client';
import { WechatBadResponseError, WechatUnavailableError } from './wechat.errors';

/** Renew this long before WeChat's expiry, so a token is never used in its last minutes. */
const EXPIRY_MARGIN_S = 300;
/** WeChat allows a forced refresh 20 times a day, 30 s apart. */
const FORCED_REFRESH_INTERVAL_MS = 30_000;
const POLL_MS = 25;

/** The cache keys and lock of one mini program's token: every name holds its appid. */
interface AppTokenSlot {
  appId: string;
  secret: string;
  cacheKey: string;
  forcedKey: string;
  lockName: string;
  pending?: Promise<string>;
  replacing?: Promise<string>;
}

/**
 * The server access_token of each mini program, from `POST /cgi-bin/stable_token`,
 * cached until shortly before expiry. Single flight per app: concurrent needs share one upstream
 * call in this process (a shared promise) and across instances (a lock in the shared cache; the
 * others wait for the cached token). Apps never share a key, a lock or a flight.
 */
@Injectable()
export class AccessTokenService {
  private readonly logger = new Logger(AccessTokenService.name);
  private readonly lockTtlMs: number;
  private readonly slots = new Map<string, AppTokenSlot>();

  constructor(
    private readonly api: WechatApiClient,
    private readonly cache: AppCache,
    private readonly lock: DistributedLock,
    apps: WechatApps,
    @InjectWechatSettings() settings: WechatSettings,
  ) {
    for (const { appId, secret } of apps.all) {
      this.slots.set(appId, { appId, secret, cacheKey: `at:${appId}`, forcedKey: `at-forced:${appId}`, lockName: `access-token:${appId}` });
    }
    // Long enough for one call with its errcode -1 retries; short enough that a crashed holder
    // does not stall the others for long.
    this.lockTtlMs = settings.timeoutMs * 3 + 1000;
  }

  /** A valid access token of the mini program `appId`: from the cache, or fetched once for every concurrent caller. */
  async token(appId: string): Promise<string> {
    const slot = this.slot(appId);
    const cached = await this.cache.get<string>(slot.cacheKey);
    if (cached) return cached;
    return (slot.pending ??= this.obtain(slot, undefined).finally(() => (slot.pending = undefined)));
  }

  /**
   * WeChat refused `rejected` (40001, 42001, 40014): drop it and get a new one, once for every
   * caller that saw the same refusal, here and on other instances.
   */
  async replace(appId: string, rejected: string): Promise<string> {
    const slot = this.slot(appId);
    return (slot.replacing ??= this.obtain(slot, rejected).finally(() => (slot.replacing = undefined)));
  }

  private slot(appId: string): AppTokenSlot {
    const slot = this.slots.get(appId);
    if (!slot) throw new Error(`mini program ${appId} is not configured`);
    return slot;
  }

  private async obtain(slot: AppTokenSlot, rejected: string | undefined): Promise<string> {
    const deadline = Date.now() + this.lockTtlMs * 2;
    for (;;) {
      const cached = await this.cache.get<string>(slot.cacheKey);
      if (cached && cached !== rejected) return cached;
      const lease = await this.lock.tryAcquire(slot.lockName, this.lockTtlMs);
      if (lease) {
        try {
          // Another holder may have finished between our read and our lock.
          const latest = await this.cache.get<string>(slot.cacheKey);
          if (latest && latest !== rejected) return latest;
          return await this.fetch(slot, rejected !== undefined);
        } finally {
          await this.lock.release(slot.lockName, lease).catch(() => undefined);
        }
      }
      if (Date.now() > deadline) throw new WechatUnavailableError('timed out waiting for the access token held by another instance');
      await sleep(POLL_MS);
    }
  }

  private async fetch(slot: AppTokenSlot, afterRejection: boolean): Promise<string> {
    let force = false;
    if (afterRejection) {
      await this.cache.del(slot.cacheKey);
      const lastForced = await this.cache.get<number>(slot.forcedKey);
      force = !lastForced || Date.now() - lastForced >= FORCED_REFRESH_INTERVAL_MS;
    }
    const body = await this.api.call<{ access_token?: unknown; expires_in?: unknown }>({
      method: 'POST',
      path: '/cgi-bin/stable_token',
      body: { grant_type: 'client_credential', appid: slot.appId, secret: slot.secret, force_refresh: force },
    });
    const token = body.access_token;
    const expiresIn = Number(body.expires_in);
    if (typeof token !== 'string' || !token || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new WechatBadResponseError('stable_token answer lacks access_token or expires_in');
    }
    if (force) await this.cache.set(slot.forcedKey, Date.now(), FORCED_REFRESH_INTERVAL_MS);
    const ttlSeconds = Math.max(expiresIn - EXPIRY_MARGIN_S, Math.floor(expiresIn / 2), 1);
    await this.cache.set(slot.cacheKey, token, ttlSeconds * 1000);
    this.logger.log(`new access token from WeChat for ${slot.appId} (${force ? 'forced refresh, ' : ''}valid ${expiresIn} s, cached ${ttlSeconds} s)`);
    return token;
  }
}
