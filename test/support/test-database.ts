import { randomBytes } from 'node:crypto';
import { Client, types } from 'pg';

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

/** A fresh, empty database on the test server, so test files never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl());
  u.pathname = `/${name}`;
  const url = u.toString();
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
