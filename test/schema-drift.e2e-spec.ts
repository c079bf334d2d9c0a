import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataSource } from 'typeorm';
import { ENTITIES } from '../src/database/database.module';
import { MIGRATIONS } from '../src/database/migrations';
import { createTestDatabase } from './support/test-database';

test('the entities match what the migrations make (migration:generate would find nothing to do)', async () => {
  const db = await createTestDatabase();
  const source = new DataSource({ type: 'postgres', url: db.url, entities: ENTITIES, migrations: MIGRATIONS });
  try {
    await source.initialize();
    await source.runMigrations();
    const pending = await source.driver.createSchemaBuilder().log();
    assert.deepEqual(
      pending.upQueries.map((q) => q.query),
      [],
    );
  } finally {
    await source.destroy().catch(() => undefined);
    await db.drop();
  }
});
