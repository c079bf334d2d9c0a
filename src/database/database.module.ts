import { DynamicModule, Module } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseSettings } from '../config/configuration';
import { WechatUser } from '../users/wechat-user.entity';
import { MigrationRunner } from './migration-runner';
import { Sql } from './sql';
import { MIGRATIONS } from './migrations';

export const ENTITIES = [WechatUser];

/** PostgreSQL through TypeORM: schema by migrations only (`synchronize` is never on). */
@Module({})
export class DatabaseModule {
  /** `url` is DATABASE_URL, or the embedded server's when it is unset. */
  static forRoot(url: string): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [getConfigToken('database')],
          useFactory: (settings: DatabaseSettings) => ({
            type: 'postgres' as const,
            url,
            entities: ENTITIES,
            migrations: MIGRATIONS,
            migrationsRun: false,
            synchronize: false,
            logging: false,
            retryAttempts: 3,
            retryDelay: 1000,
            extra: { max: settings.poolSize, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30_000 },
          }),
        }),
      ],
      global: true,
      providers: [MigrationRunner, Sql],
      exports: [Sql],
    };
  }
}
