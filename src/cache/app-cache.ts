import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { randomUUID } from 'node:crypto';
import { InjectCacheSettings } from '../config/config.module';
import type { CacheSettings } from '../config/configuration';
import { withinRedisWait } from './redis';

/**
 * The one door to cache-manager. With Redis, every call is bounded in time and any failure becomes
 * SERVICE_UNAVAILABLE (503) instead of a request hanging while the client reconnects; the memory
 * store cannot fail, so its calls go straight through.
 */
@Injectable()
export class AppCache implements OnApplicationBootstrap {
  private readonly shared: boolean;
  private readonly probeKey = `health:${randomUUID()}`;

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    @InjectCacheSettings() settings: CacheSettings,
  ) {
    this.shared = Boolean(settings.redisUrl);
  }

  /**
   * Connects to Redis before the first request (the client connects lazily, and with the offline
   * queue off a first command would fail instead of waiting). A Redis that is down at start does
   * not stop the start: /health says so, and requests get 503 until it is back.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.shared) return;
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        if (await this.ping()) return;
      } catch {
        // not connected yet
      }
      if (Date.now() > deadline) {
        new Logger(AppCache.name).warn('Redis did not answer at start; requests that need the cache get 503 until it does');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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
    return this.shared ? withinRedisWait(operation) : operation;
  }
}
