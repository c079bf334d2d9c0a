import { createKeyv as createMemoryKeyv } from '@cacheable/memory';
import { createKeyv as createRedisKeyv } from '@keyv/redis';
import { CacheModule } from '@nestjs/cache-manager';
import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import type { CacheSettings } from '../config/configuration';
import { AppCache } from './app-cache';
import { DistributedLock, InProcessLock, RedisLock } from './distributed-lock';

/**
 * Keyv reports a lost Redis connection as 'error' events (on every reconnect attempt): log them,
 * at most one line per 10 s, instead of letting an unheard 'error' event crash the process.
 */
function withErrorLog<T extends { on(event: 'error', listener: (err: Error) => void): unknown }>(keyv: T): T {
  const logger = new Logger('Cache');
  let lastLogged = 0;
  keyv.on('error', (err: Error) => {
    if (Date.now() - lastLogged < 10_000) return;
    lastLogged = Date.now();
    logger.warn(`Redis: ${err?.message ?? err}`);
  });
  return keyv;
}

/**
 * cache-manager over Keyv: Redis when REDIS_URL is set (shared by every instance), otherwise an
 * in-process LRU that stays bounded whatever the number of users. The lock follows the same choice.
 */
@Global()
@Module({
  imports: [
    CacheModule.registerAsync({
      isGlobal: true,
      inject: [getConfigToken('cache')],
      useFactory: (settings: CacheSettings) => ({
        // Both return a Keyv; the cast bridges two copies of Keyv's type declarations.
        stores: [
          (settings.redisUrl
            ? withErrorLog(createRedisKeyv(
                // Fail fast while disconnected (AppCache bounds the wait for the reconnect itself).
                { url: settings.redisUrl, disableOfflineQueue: true, socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(retries * 100, 2000) } },
                { namespace: 'wxlogin', keyPrefixSeparator: ':', throwOnErrors: true, throwOnConnectError: true },
              ))
            : // Values are never mutated after a set, so no defensive clone; one map, no key hashing.
              createMemoryKeyv({ lruSize: 100_000, useClone: false, storeHashSize: 1 })) as any,
        ],
      }),
    }),
  ],
  providers: [
    AppCache,
    {
      provide: DistributedLock,
      inject: [getConfigToken('cache')],
      useFactory: (settings: CacheSettings) => (settings.redisUrl ? new RedisLock(settings.redisUrl) : new InProcessLock()),
    },
  ],
  exports: [AppCache, DistributedLock],
})
export class AppCacheModule implements OnApplicationShutdown {
  constructor(@Inject(DistributedLock) private readonly lock: DistributedLock) {}

  async onApplicationShutdown(): Promise<void> {
    await this.lock.close();
  }
}
