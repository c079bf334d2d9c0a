import { createKeyv as createMemoryKeyv } from '@cacheable/memory';
import { createKeyv as createRedisKeyv } from '@keyv/redis';
import { CacheModule } from '@nestjs/cache-manager';
import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import type { CacheSettings } from '../config/configuration';
import { DistributedLock, InProcessLock, RedisLock } from './distributed-lock';

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
            ? createRedisKeyv(settings.redisUrl, { namespace: 'wxlogin', keyPrefixSeparator: ':' })
            : createMemoryKeyv({ lruSize: 100_000 })) as any,
        ],
      }),
    }),
  ],
  providers: [
    {
      provide: DistributedLock,
      inject: [getConfigToken('cache')],
      useFactory: (settings: CacheSettings) => (settings.redisUrl ? new RedisLock(settings.redisUrl) : new InProcessLock()),
    },
  ],
  exports: [DistributedLock],
})
export class AppCacheModule implements OnApplicationShutdown {
  constructor(@Inject(DistributedLock) private readonly lock: DistributedLock) {}

  async onApplicationShutdown(): Promise<void> {
    await this.lock.close();
  }
}
