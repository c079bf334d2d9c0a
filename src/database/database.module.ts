import { DynamicModule, Module } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseSettings } from '../config/configuration';
import { WechatIdentity } from '../users/wechat-identity.entity';
import { WechatUser } from '../users/wechat-user.entity';
import { MigrationRunner } from './migration-runner';
import { DATABASE_IDENTITY, databaseIdentity } from './database-identity';
import { DatabaseNotifications } from './database-notifications';
import { PG_POOL_CONFIG, Sql } from './sql';
import { MIGRATIONS } from './migrations';

export const ENTITIES = [WechatUser, WechatIdentity];

/** PostgreSQL through TypeORM: schema by migrations only (`synchronize` is never on). */
@Module({})
export class DatabaseModule {
  /** `url` is DATABASE_URL, or the embedded server's when it is unset. */
  static forRoot(url: string): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            type: 'postgres' as const,
            url,
            entities: ENTITIES,
            migrations: MIGRATIONS,
            migrationsRun: false,
            synchronize: false,
            logging: false,
            retryAttempts: 3,
            retryDelay: 1000,
            // Migrations only: two connections, so the migration lock can hold
            // one while the migrations run on the other, whatever DATABASE_POOL_SIZE says. No
            // statement timeout here: a migration on a large table may rightly take long.
            extra: { max: 2, connectionTimeoutMillis: 3000, idleTimeoutMillis: 10_000, keepAlive: true },
          }),
        }),
      ],
      global: true,
      providers: [
        { provide: DATABASE_IDENTITY, useValue: databaseIdentity(url) },
        MigrationRunner,
        Sql,
        { provide: DatabaseNotifications, useFactory: () => new DatabaseNotifications(url) },
        {
          provide: PG_POOL_CONFIG,
          inject: [getConfigToken('database')],
          useFactory: (settings: DatabaseSettings) => ({
            connectionString: url,
            max: settings.poolSize,
            connectionTimeoutMillis: 3000,
            idleTimeoutMillis: 30_000,
            keepAlive: true,
            statement_timeout: settings.statementTimeoutMs,
            // The same bound on the client's side: a server that falls silent (a dropped network
            // path: no reset ever arrives) cannot cancel anything, and the connection is destroyed.
            query_timeout: settings.statementTimeoutMs,
          }),
        },
      ],
      exports: [Sql, DatabaseNotifications, DATABASE_IDENTITY],
    };
  }
}
