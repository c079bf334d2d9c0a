import { randomBytes } from 'node:crypto';
import { Client, types } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../src/database/migrations';

/**
 * Tests read bigint columns (ids) as numbers, as the API shows them; this client's own parser, so the
 * application's driver keeps its default (strings for int8).
 */
const TEST_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === types.builtins.INT8 ? (v: string) => Number(v) : types.getTypeParser(oid, format as any))) as typeof types.getTypeParser,
};

/** A `wechat_user` row as the pg driver returns it. */
export interface WechatUserRow {
  id: number;
  open_id: string;
  union_id: string | null;
  nickname: string | null;
  avatar_url: string | null;
  gender: number | null;
  country: string | null;
  province: string | null;
  city: string | null;
  mobile: string | null;
  token_version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface TestDatabase {
  url: string;
  name: string;
  /** Runs SQL on this database (a short-lived connection each time). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** The server `npm test` provides (DATABASE_URL, or the embedded one it started). */
export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests with `npm test`');
  return url;
}

function databaseUrl(name: string): string {
  const u = new URL(serverUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * The run's template (TEST_TEMPLATE_DATABASE, named by `npm test`): an empty database with every
 * migration applied, as the TypeORM CLI applies them. The first test file that asks makes it, under a
 * lock the others wait on; it is marked a template once complete. Undefined outside `npm test`.
 */
async function migratedTemplate(admin: Client): Promise<string | undefined> {
  const name = process.env.TEST_TEMPLATE_DATABASE;
  if (!name) return undefined;
  await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
  try {
    const [ready] = (await admin.query('SELECT datistemplate FROM pg_database WHERE datname = $1', [name])).rows as { datistemplate: boolean }[];
    if (ready?.datistemplate) return name;
    // Not there, or left half made by a test process that died.
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
    const source = new DataSource({ type: 'postgres', url: databaseUrl(name), migrations: MIGRATIONS, migrationsTransactionMode: 'each' });
    await source.initialize();
    try {
      await source.runMigrations();
    } finally {
      await source.destroy();
    }
    // No connections from now on: a template that anyone is connected to cannot be copied.
    await admin.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    return name;
  } finally {
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
  }
}

/**
 * A fresh database on the test server, so test files never see each other's rows: empty, or with
 * `schema: 'migrated'` a copy of the run's template (the current schema, no rows), which spares each
 * app start the migrations; the app still runs its migration step and finds nothing to do.
 */
export async function createTestDatabase(options: { schema?: 'empty' | 'migrated' } = {}): Promise<TestDatabase> {
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    const template = options.schema === 'migrated' ? await migratedTemplate(admin) : undefined;
    await admin.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  return {
    url,
    name,
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      const c = new Client({ connectionString: url, types: TEST_TYPES });
      await c.connect();
      try {
        return (await c.query(sql, params as unknown[])).rows as T[];
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = new Client({ connectionString: serverUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
