import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InjectWechatSettings } from '../config/config.module';
import type { WechatSettings } from '../config/configuration';
import { adoptOneAppIdentities } from './migrations/1764400000000-create-wechat-identity';
import { InjectDataProtectionSettings } from '../config/config.module';
import type { DataProtectionSettings } from '../config/profile-settings';
import { FieldCipher } from '../data-protection/field-cipher';
import { provideMigrationCipher } from '../data-protection/migration-cipher';

/** Any constant: instances starting together take turns on it. */
const MIGRATION_LOCK = 4_242_001;

/**
 * Runs pending migrations at start. A PostgreSQL advisory lock serialises instances that start at
 * the same time, so each migration runs exactly once.
 */
@Injectable()
export class MigrationRunner implements OnModuleInit {
  private readonly logger = new Logger('Migrations');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectWechatSettings() private readonly wechat: Pick<WechatSettings, 'apps'>,
    @InjectDataProtectionSettings() private readonly dataProtection: DataProtectionSettings,
  ) {}

  async onModuleInit(): Promise<void> {
    // Migrations that encrypt stored data get the key this way (never through SQL or the environment).
    provideMigrationCipher(this.db, new FieldCipher(this.dataProtection));
    const lock = this.db.createQueryRunner();
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const applied = await this.db.runMigrations({ transaction: 'each' });
      for (const m of applied) this.logger.log(`applied migration ${m.name}`);
      // Users of the one-app schema become identities of the first configured mini program.
      const appId = this.wechat.apps[0].appId;
      const adopted = await adoptOneAppIdentities(lock, appId);
      if (adopted > 0) this.logger.warn(`${adopted} users of the one-app schema became identities of mini program ${appId} (the first configured one)`);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      await lock.release();
    }
  }
}
