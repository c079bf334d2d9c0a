import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../common/errors/app-error';
import { InjectCacheSettings } from '../config/config.module';
import type { CacheSettings } from '../config/configuration';

/** A cache call that takes longer than this means Redis is unreachable (its client waits forever). */
const REDIS_TIMEOUT_MS = 1000;

/**
 * The one door to cache-manager. With Redis, every call is bounded in time and any failure becomes
 * SERVICE_UNAVAILABLE (503) instead of a request hanging while the client reconnects; the memory
 * store cannot fail, so its calls go straight through.
 */
@Injectable()
export class AppCache {
  private readonly shared: boolean;
  private readonly probeKey = `health:${randomUUID()}`;

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    @InjectCacheSettings() settings: CacheSettings,
  ) {
    this.shared = Boolean(settings.redisUrl);
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.guard(this.cache.get<T>(key));
  }

  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    await this.guard(this.cache.set(key, value, ttlMs));
  }

  async del(key: string): Promise<void> {
    await this.guard(this.cache.del(key));
  }

  /** For the health check: a write and a read of a key of this instance. */
  async ping(): Promise<boolean> {
    const value = Date.now();
    await this.set(this.probeKey, value, 10_000);
    return (await this.get<number>(this.probeKey)) === value;
  }

  private guard<T>(operation: Promise<T>): Promise<T> {
    if (!this.shared) return operation;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ServiceUnavailableError('The cache')), REDIS_TIMEOUT_MS);
    });
    return Promise.race([operation, timeout])
      .catch((err) => {
        throw err instanceof ServiceUnavailableError ? err : new ServiceUnavailableError('The cache', err);
      })
      .finally(() => clearTimeout(timer));
  }
}
