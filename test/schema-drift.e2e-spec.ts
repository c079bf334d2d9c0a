import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataSource } from 'typeorm';
import { ENTITIES } from '../src/database/database.module';
import { MIGRATIONS } from '../src/database/migrations';
import { createTestDatabase } from './support/test-database';

test('the wechat_user and wechat_identity entities match what the migrations make (migration:generate finds nothing to do for them)', async () => {
  const db = await createTestDatabase();
  const source = new DataSource({ type: 'postgres', url: db.url, entities: ENTITIES, migrations: MIGRATIONS });
  try {
    await source.initialize();
    await source.runMigrations();
    const pending = await source.driver.createSchemaBuilder().log();
    // The tables with entities; the others (push messages, avatars, checks, session keys) are their repositories' business.
    assert.deepEqual(
      pending.upQueries.map((q) => q.query).filter((q) => q.includes('wechat_identity') || q.includes('"wechat_user"')),
      [],
    );
  } finally {
    await source.destroy().catch(() => undefined);
    await db.drop();
  }
});
