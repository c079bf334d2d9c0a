import { createKeyv as createMemoryKeyv } from '@cacheable/memory';
import { CacheModule } from '@nestjs/cache-manager';
import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import type { CacheSettings } from '../config/configuration';
import { DATABASE_IDENTITY } from '../database/database-identity';
import { AppCache } from './app-cache';
import { DistributedLock, InProcessLock, RedisLock } from './distributed-lock';
import { redisClientOptions, redisPackage, throttledRedisErrorLog } from './redis';
import { MemoryVersionedCache, RedisVersionedCache, VersionedCache } from './versioned-cache';

/** The in-process user cache's budget: with the other in-process state, an instance stays well under 256 MiB. */
const MEMORY_CACHE_BYTES = 24 * 1024 * 1024;

/**
 * cache-manager over Keyv: Redis when REDIS_URL is set (shared by every instance), otherwise an
 * in-process LRU that stays bounded whatever the number of users. The lock follows the same choice.
 * Without REDIS_URL the Redis client package is never loaded (see redisPackage).
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
            ? redisPackage()
                .createKeyv(redisClientOptions(settings.redisUrl), {
                  namespace: 'wxlogin',
                  keyPrefixSeparator: ':',
                  throwOnErrors: true,
                  throwOnConnectError: true,
                })
                .on('error', throttledRedisErrorLog(new Logger('Cache'), 'Redis'))
            : // Values are never mutated after a set, so no defensive clone; one map, no key hashing.
              createMemoryKeyv({ lruSize: 10_000, useClone: false, storeHashSize: 1 })) as any, // eslint-disable-line @typescript-eslint/no-explicit-any -- see above
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
    {
      provide: VersionedCache,
      inject: [getConfigToken('cache'), DATABASE_IDENTITY],
      // Cached users are rows of one database: their keys name it (see databaseIdentity).
      useFactory: (settings: CacheSettings, database: string) =>
        settings.redisUrl ? new RedisVersionedCache(settings.redisUrl, `wxlogin:v:${database}:`) : new MemoryVersionedCache(MEMORY_CACHE_BYTES),
    },
  ],
  exports: [AppCache, DistributedLock, VersionedCache],
})
export class AppCacheModule implements OnApplicationShutdown {
  constructor(
    @Inject(DistributedLock) private readonly lock: DistributedLock,
    private readonly versioned: VersionedCache,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.lock.close();
    await this.versioned.close();
  }
}
