import { createKeyv as createMemoryKeyv } from '@cacheable/memory';
import { createKeyv as createRedisKeyv } from '@keyv/redis';
import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import type { CacheSettings } from '../config/configuration';

/**
 * cache-manager over Keyv: Redis when REDIS_URL is set (shared by every instance), otherwise an
 * in-process LRU that stays bounded whatever the number of users.
 */
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
})
export class AppCacheModule {}
