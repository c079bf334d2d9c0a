import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../src/database/migrations';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** The documented `wechat_user` table (README, Database and migrations): exactly these columns, types and nullability. */
const EXPECTED_COLUMNS = {
  id: { type: 'bigint', nullable: 'NO' },
  nickname: { type: 'character varying', nullable: 'YES' },
  avatar_url: { type: 'character varying', nullable: 'YES' },
  gender: { type: 'smallint', nullable: 'YES' },
  country: { type: 'character varying', nullable: 'YES' },
  province: { type: 'character varying', nullable: 'YES' },
  city: { type: 'character varying', nullable: 'YES' },
  mobile: { type: 'character varying', nullable: 'YES' },
  mobile_hash: { type: 'character varying', nullable: 'YES' },
  mobile_verified_at: { type: 'timestamp with time zone', nullable: 'YES' },
  avatar_pending_url: { type: 'character varying', nullable: 'YES' },
  open_id: { type: 'character varying', nullable: 'NO' },
  union_id: { type: 'character varying', nullable: 'YES' },
  token_version: { type: 'integer', nullable: 'NO' },
  revision: { type: 'bigint', nullable: 'NO' },
  revoked_at: { type: 'timestamp with time zone', nullable: 'YES' },
  created_at: { type: 'timestamp with time zone', nullable: 'NO' },
  updated_at: { type: 'timestamp with time zone', nullable: 'NO' },
  deleted_at: { type: 'timestamp with time zone', nullable: 'YES' },
};

async function schemaOf(db: TestDatabase) {
  const columns = await db.query<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
    `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = 'wechat_user' ORDER BY column_name`,
  );
  const indexes = await db.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'wechat_user' ORDER BY indexname`);
  const constraints = await db.query<{ conname: string; def: string }>(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'wechat_user'::regclass ORDER BY conname`);
  return { columns, indexes, constraints };
}

describe('migrations', () => {
  let db: TestDatabase;
  let app: TestApp;
  before(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ db }); // migrations run at start
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('a first start on an empty database logs no warning: nothing reads a table before the migrations made it', () => {
    const warnings = app.logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 40);
    assert.deepEqual(warnings, []);
  });

  test('a fresh database ends with exactly the contract columns, types and indexes', async () => {
    const { columns, indexes, constraints } = await schemaOf(db);
    assert.deepEqual(Object.fromEntries(columns.map((c) => [c.column_name, { type: c.data_type, nullable: c.is_nullable }])), EXPECTED_COLUMNS);
    assert.match(columns.find((c) => c.column_name === 'id')!.column_default ?? '', /nextval/, 'id is serial');
    const byName = Object.fromEntries(indexes.map((i) => [i.indexname, i.indexdef]));
    assert.deepEqual(Object.keys(byName).sort(), ['idx_wechat_user_mobile_hash', 'idx_wechat_user_revoked_at', 'idx_wechat_user_union_id', 'uq_wechat_user_open_id', 'wechat_user_pkey']);
    assert.match(byName.uq_wechat_user_open_id, /CREATE UNIQUE INDEX .* \(open_id\)/);
    assert.match(byName.idx_wechat_user_union_id, /CREATE INDEX .* \(union_id\)/);
    assert.match(byName.wechat_user_pkey, /UNIQUE INDEX .* \(id\)/);
    assert.deepEqual(
      constraints.map((c) => c.conname),
      ['wechat_user_gender_check', 'wechat_user_pkey'],
    );
  });

  test('synchronize is off and every migration is recorded once', async () => {
    assert.equal(app.running.app.get(DataSource).options.synchronize, false);
    const applied = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
    assert.deepEqual(
      applied.map((m) => m.name),
      MIGRATIONS.map((m) => m.name),
    );
  });

  test('running the migrations again changes nothing (CLI DataSource, then a second app start)', async () => {
    const before = await schemaOf(db);
    const cli = new DataSource({ type: 'postgres', url: db.url, migrations: MIGRATIONS });
    await cli.initialize();
    try {
      assert.deepEqual(await cli.runMigrations(), [], 'no migration is pending');
    } finally {
      await cli.destroy();
    }
    const second = await startTestApp({ db });
    await second.close();
    assert.deepEqual(await schemaOf(db), before);
    const applied = await db.query('SELECT name FROM migrations');
    assert.equal(applied.length, MIGRATIONS.length);
  });

  test('instances starting at the same time apply each migration exactly once', async () => {
    const fresh = await createTestDatabase();
    try {
      const apps = await Promise.all([startTestApp({ db: fresh }), startTestApp({ db: fresh }), startTestApp({ db: fresh })]);
      await Promise.all(apps.map((a) => a.close()));
      const applied = await fresh.query('SELECT name FROM migrations');
      assert.equal(applied.length, MIGRATIONS.length);
      assert.deepEqual(await schemaOf(fresh), await schemaOf(db));
    } finally {
      await fresh.drop();
    }
  });
});
