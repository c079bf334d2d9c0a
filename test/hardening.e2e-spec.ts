/**
 * Holes a hostile client or a bad day in production would find: a sandbox that meets a real user
 * table, revoked tokens that come back, text the database cannot store, waits without bound.
 * Every test drives the real app over HTTP on a real PostgreSQL.
 */
import { createClient } from '@keyv/redis';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createApp } from '../src/bootstrap';
import { ConfigError } from '../src/config/configuration';
import { databaseIdentity } from '../src/database/database-identity';
import { DatabaseNotifications } from '../src/database/database-notifications';
import { MIGRATIONS } from '../src/database/migrations';
import { encryptWithSessionKey } from '../src/sandbox/wechat-simulator';
import { SessionKeyStore } from '../src/session-keys/session-key.store';
import { TokenRevocations } from '../src/users/token-revocations';
import { PLACEHOLDER_AVATAR_URL, PLACEHOLDER_NICKNAME } from '../src/wechat/wechat-login.service';
import { startTestApp, TEST_APPID, TEST_JWT_SECRET, type HttpAnswer, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const REDIS_URL = process.env.REDIS_URL;

function assertError(res: HttpAnswer, status: number, code: string, label = code): void {
  assert.equal(res.status, status, `${label}: expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.deepEqual(Object.keys(res.body ?? {}).sort(), ['code', 'message', 'statusCode'], res.text);
  assert.equal(res.body.code, code, `${label}: ${res.text}`);
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let seq = 0;
const newOpenId = () => `oHarden${process.pid}x${Date.now().toString(36)}x${++seq}`;

describe('the sandbox fails closed', () => {
  test('a DATABASE_URL without WeChat credentials refuses to start, naming both ways out', async () => {
    const db = await createTestDatabase();
    try {
      for (const nodeEnv of ['test', 'development']) {
        await assert.rejects(
          createApp({ env: { NODE_ENV: nodeEnv, DATABASE_URL: db.url, JWT_SECRET: TEST_JWT_SECRET }, logDestination: { write: () => undefined } }),
          (err: unknown) => err instanceof ConfigError && /WECHAT_APPID/.test(err.message) && /WECHAT_SANDBOX=true/.test(err.message),
        );
      }
      for (const nodeEnv of ['staging', 'Production']) {
        await assert.rejects(
          createApp({ env: { NODE_ENV: nodeEnv, DATABASE_URL: db.url, JWT_SECRET: TEST_JWT_SECRET }, logDestination: { write: () => undefined } }),
          (err: unknown) => err instanceof ConfigError && err.message.includes(`"${nodeEnv}"`),
        );
      }
      // Nothing was created in the database by the refused starts.
      const tables = await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
      assert.deepEqual(tables, []);
    } finally {
      await db.drop();
    }
  });
});

describe('input the database would reject is refused with 400, never 500', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp();
    const res = await app.login({ openId: newOpenId() }, 'code');
    token = res.body.token;
  });
  after(async () => {
    await app?.close();
  });
  const patch = (body: unknown) => app.request('PATCH', '/users/me', { token, body });

  test('PATCH: NUL, control characters and lone surrogates', async () => {
    for (const [field, value] of [
      ['nickname', 'a\u0000b'],
      ['city', 'Shen\u0000zhen'],
      ['country', 'x\u0007'],
      ['province', 'bad\ud800'],
    ]) {
      const res = await patch({ [field]: value });
      assertError(res, 400, 'VALIDATION_FAILED', `${field} ${JSON.stringify(value)}`);
      assert.match(res.body.message, new RegExp(field));
    }
    // A lone surrogate escaped in the JSON text itself.
    const raw = await app.request('PATCH', '/users/me', { token, rawBody: '{"nickname":"x\\udc00y"}', headers: { 'content-type': 'application/json' } });
    assertError(raw, 400, 'VALIDATION_FAILED', 'escaped lone surrogate');
  });

  test('PATCH: lengths count code points, as the column does', async () => {
    assertError(await patch({ nickname: '❤️'.repeat(33) }), 400, 'VALIDATION_FAILED', '66 code points');
    const fits = await patch({ nickname: '❤️'.repeat(32), city: '😀'.repeat(100) });
    assert.equal(fits.status, 200, fits.text);
    assert.equal(fits.body.nickname, '❤️'.repeat(32));
    assert.equal(fits.body.city, '😀'.repeat(100));
    assertError(await patch({ city: '😀'.repeat(101) }), 400, 'VALIDATION_FAILED', '101 emoji');
  });

  test('login: encryptedData with a NUL unionId is 502 WECHAT_BAD_RESPONSE (only WeChat can have sealed it), and nothing is written', async () => {
    const openId = newOpenId();
    const issued = app.wechat.issueLoginCode({ openId });
    const sessionKey = app.wechat.pendingSessionKey(issued.code)!;
    const data = encryptWithSessionKey(sessionKey, JSON.stringify({ openId, unionId: 'oU\u0000x', watermark: { appid: TEST_APPID, timestamp: 1 } }));
    const res = await app.request('POST', '/wechat/login', { body: { code: issued.code, ...data } });
    assertError(res, 502, 'WECHAT_BAD_RESPONSE');
    assert.deepEqual(await app.db.query('SELECT id FROM wechat_user WHERE open_id = $1', [openId]), []);
  });

  test('login: an upstream openid or unionid the database cannot hold is 502 WECHAT_BAD_RESPONSE', async () => {
    for (const input of [{ openId: `oBad\u0000${seq++}` }, { openId: 'o'.repeat(65) }, { openId: newOpenId(), unionId: 'oU\u0000' }]) {
      const issued = app.wechat.issueLoginCode(input);
      const res = await app.request('POST', '/wechat/login', { body: { code: issued.code } });
      assertError(res, 502, 'WECHAT_BAD_RESPONSE', JSON.stringify(input));
    }
  });

  test('phone: a number from WeChat that no column could hold is 502, and nothing is stored', async () => {
    const res = await app.login({ openId: newOpenId() }, 'code');
    for (const phoneNumber of ['138\u00000000', '1'.repeat(40)]) {
      const { code } = app.wechat.issuePhoneCode({ phoneNumber });
      const answer = await app.request('POST', '/wechat/phone', { token: res.body.token, body: { code } });
      assertError(answer, 502, 'WECHAT_BAD_RESPONSE', JSON.stringify(phoneNumber));
    }
    const [row] = await app.db.query<{ mobile: string | null }>('SELECT mobile FROM wechat_user WHERE id = $1', [res.body.user.id]);
    assert.equal(row.mobile, null);
  });

  test('an empty body with content-type application/json (as wx.request sends it) counts as no body', async () => {
    const fresh = await app.login({ openId: newOpenId() }, 'code');
    const headers = { 'content-type': 'application/json' };
    const logout = await app.request('POST', '/auth/logout', { token: fresh.body.token, rawBody: '', headers });
    assert.equal(logout.status, 204, logout.text);
    const login = await app.request('POST', '/wechat/login', { rawBody: '', headers });
    assertError(login, 400, 'VALIDATION_FAILED');
    assert.match(login.body.message, /code/);
  });

  test('login: an over-long emoji nickname is cut by characters, never in the middle of one', async () => {
    const res = await app.login({ openId: newOpenId(), nickName: '😀'.repeat(70) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.user.nickname, '😀'.repeat(64));
    const [row] = await app.db.query<{ nickname: string }>('SELECT nickname FROM wechat_user WHERE id = $1', [res.body.user.id]);
    assert.equal(row.nickname, '😀'.repeat(64));
    assert.ok(!row.nickname.includes('\ufffd'));
  });

  test('login: WeChat placeholders never overwrite what the user set', async () => {
    const openId = newOpenId();
    const first = await app.login({ openId, nickName: 'Real Name', gender: 2, avatarUrl: 'https://example.com/a.png', city: 'Hangzhou' });
    assert.equal(first.status, 200, first.text);
    const set = await app.request('PATCH', '/users/me', { token: first.body.token, body: { nickname: 'Chosen Name' } });
    assert.equal(set.status, 200, set.text);
    const again = await app.login({ openId, nickName: PLACEHOLDER_NICKNAME, avatarUrl: PLACEHOLDER_AVATAR_URL, gender: 0, city: '', province: '', country: '' });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.user.nickname, 'Chosen Name');
    assert.equal(again.body.user.avatarUrl, 'https://example.com/a.png');
    assert.equal(again.body.user.gender, 2);
    assert.equal(again.body.user.city, 'Hangzhou');
    // A new user with only placeholders gets an empty profile, not the placeholders.
    const fresh = await app.login({ nickName: PLACEHOLDER_NICKNAME, avatarUrl: PLACEHOLDER_AVATAR_URL, gender: 0 });
    assert.equal(fresh.body.user.nickname, null);
    assert.equal(fresh.body.user.avatarUrl, null);
    assert.equal(fresh.body.user.gender, null);
  });
});

describe('revoked tokens stay revoked whatever the cache holds', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    db = await createTestDatabase({ schema: 'migrated' });
    a = await startTestApp({ db });
    b = await startTestApp({ db, env: { WECHAT_API_BASE_URL: a.wechatUrl } });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  test('two instances with their own caches: a logout on one is refused by the other within seconds', async () => {
    const login = await a.login({ openId: newOpenId() }, 'code');
    const token = login.body.token;
    assert.equal((await b.request('GET', '/users/me', { token })).status, 200, 'b caches the user');
    assert.equal((await a.request('POST', '/auth/logout', { token })).status, 204);
    assert.equal((await a.request('GET', '/users/me', { token })).status, 401, 'the instance that revoked refuses at once');
    // b's own cache still says version 0; the revocation reaches it from the database (polled every second).
    assert.ok(await eventually(async () => (await b.request('GET', '/users/me', { token })).status === 401, 5000), 'b refuses the revoked token');
    assert.equal((await b.request('GET', '/users/me', { token })).status, 401);
  });

  test('the other instance learns of a logout at its commit, not at its next poll', async () => {
    const login = await a.login({ openId: newOpenId() }, 'code');
    const token = login.body.token;
    assert.equal((await b.request('GET', '/users/me', { token })).status, 200, 'b caches the user');
    // b stops polling: from now on only the database's notification can tell it.
    const polls = b.running.app.get(TokenRevocations);
    polls.onModuleDestroy();
    try {
      assert.equal((await a.request('POST', '/auth/logout', { token })).status, 204);
      assert.ok(await eventually(async () => (await b.request('GET', '/users/me', { token })).status === 401, 5000), 'b refuses the revoked token');
    } finally {
      await polls.onApplicationBootstrap();
    }
  });

  test('a deleted account: every instance refuses its tokens, and a re-login works everywhere', async () => {
    const openId = newOpenId();
    const login = await a.login({ openId }, 'code');
    const token = login.body.token;
    assert.equal((await b.request('GET', '/users/me', { token })).status, 200);
    assert.equal((await a.request('DELETE', '/users/me', { token })).status, 204);
    assert.ok(await eventually(async () => (await b.request('GET', '/users/me', { token })).status === 401, 5000));
    const again = await a.login({ openId }, 'code');
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.user.id, login.body.user.id, 'same account, reactivated');
    assert.equal((await b.request('GET', '/users/me', { token: again.body.token })).status, 200);
    assert.equal((await b.request('GET', '/users/me', { token })).status, 401, 'the old token stays refused');
  });

  // Last: b's notifications stay off.
  test('while the notifications are down, the poll still brings a logout to the other instance', async () => {
    await b.running.app.get(DatabaseNotifications).onModuleDestroy();
    const login = await a.login({ openId: newOpenId() }, 'code');
    const token = login.body.token;
    assert.equal((await b.request('GET', '/users/me', { token })).status, 200);
    assert.equal((await a.request('POST', '/auth/logout', { token })).status, 204);
    assert.ok(await eventually(async () => (await b.request('GET', '/users/me', { token })).status === 401, 5000), 'b refuses the revoked token');
  });
});

describe('revocation survives Redis losing or rolling back a value', { skip: REDIS_URL ? false : 'REDIS_URL not set' }, () => {
  // Typed by what it returns: naming the generic's return type (ReturnType<typeof createClient>) costs tsc about a second.
  const newRedisClient = () => createClient({ url: REDIS_URL });
  let app: TestApp;
  let redis: ReturnType<typeof newRedisClient>;
  before(async () => {
    app = await startTestApp({ env: { REDIS_URL: REDIS_URL! } });
    redis = newRedisClient();
    await redis.connect();
  });
  after(async () => {
    await redis?.close();
    await app?.close();
  });

  /** A new user's token, and its cached user in Redis as it is before any logout. */
  async function cachedUser(): Promise<{ token: string; key: string; snapshot: string }> {
    const login = await app.login({ openId: newOpenId() }, 'code');
    const { token, user } = login.body;
    assert.equal((await app.request('GET', '/users/me', { token })).status, 200);
    const key = `wxlogin:v:${databaseIdentity(app.db.url)}:u2:${user.id}`;
    const snapshot = await redis.get(key);
    assert.ok(snapshot, 'the user is cached in Redis');
    return { token, key, snapshot };
  }

  test('Redis restored from an older snapshot (the cached user goes back to version 0): the logged-out token stays 401', async () => {
    const { token, key, snapshot } = await cachedUser();
    assert.equal((await app.request('POST', '/auth/logout', { token })).status, 204);
    assert.notEqual(await redis.get(key), snapshot, 'the logout raised the cached version');
    // The older snapshot comes back, exactly as it was before the logout.
    await redis.set(key, snapshot, { expiration: { type: 'PX', value: 600_000 } });
    assert.equal((await app.request('GET', '/users/me', { token })).status, 401);
    await redis.del(key);
    assert.equal((await app.request('GET', '/users/me', { token })).status, 401, 'a lost value is read again from the database');
  });

  test('Redis rolled back right after a logout on another instance: this one refuses the token without waiting for its poll', async () => {
    const other = await startTestApp({ db: app.db, env: { REDIS_URL: REDIS_URL!, WECHAT_API_BASE_URL: app.wechatUrl } });
    const polls = app.running.app.get(TokenRevocations);
    try {
      const { token, key, snapshot } = await cachedUser();
      // This instance stops polling: only the database's notification can tell it.
      polls.onModuleDestroy();
      assert.equal((await other.request('POST', '/auth/logout', { token })).status, 204);
      await redis.set(key, snapshot, { expiration: { type: 'PX', value: 600_000 } });
      assert.ok(await eventually(async () => (await app.request('GET', '/users/me', { token })).status === 401, 5000), 'the revoked token is refused');
      assert.equal(await redis.get(key), snapshot, 'although Redis still holds the version from before the logout');
    } finally {
      await polls.onApplicationBootstrap();
      await other.close();
    }
  });
});

describe('bounded waits and storage that scales', () => {
  test('a locked table answers 503 within the statement timeout, and works again after', async () => {
    const app = await startTestApp({ env: { DATABASE_STATEMENT_TIMEOUT_MS: '300' } });
    const locker = new Client({ connectionString: app.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE wechat_user IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const res = await app.login({ openId: newOpenId() }, 'code');
      const waited = Date.now() - started;
      assertError(res, 503, 'SERVICE_UNAVAILABLE');
      // The lock would hold forever; the answer came after the 300 ms statement timeout (plus the
      // pool's 3 s checkout and generous slack for a loaded machine), not when the lock went.
      assert.ok(waited < 10_000, `answered after ${waited} ms`);
      await locker.query('ROLLBACK');
      const after = await app.login({ openId: newOpenId() }, 'code');
      assert.equal(after.status, 200, after.text);
    } finally {
      await locker.end().catch(() => undefined);
      await app.close();
    }
  });

  test('DATABASE_POOL_SIZE=1 starts (migrations do not deadlock) and serves logins', async () => {
    const app = await startTestApp({ env: { DATABASE_POOL_SIZE: '1' } });
    try {
      const res = await app.login({ openId: newOpenId() }, 'code');
      assert.equal(res.status, 200, res.text);
    } finally {
      await app.close();
    }
  });

  test('ids are 64-bit: a user id past 2^31 logs in and uses its token', async () => {
    const app = await startTestApp();
    try {
      await app.db.query(`SELECT setval('wechat_user_id_seq', 3000000000)`);
      const res = await app.login({ openId: newOpenId() }, 'code');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.user.id, 3000000001);
      const me = await app.request('GET', '/users/me', { token: res.body.token });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.id, 3000000001);
    } finally {
      await app.close();
    }
  });

  test('the migration from 32-bit ids keeps every row, id and token', async () => {
    const db = await createTestDatabase();
    const old = new DataSource({ type: 'postgres', url: db.url, migrations: [MIGRATIONS[0]] });
    await old.initialize();
    await old.runMigrations();
    await old.query(`INSERT INTO wechat_user (open_id, nickname, token_version) VALUES ('oOld1', 'Old One', 0), ('oOld2', 'Old Two', 3)`);
    await old.destroy();
    const app = await startTestApp({ db });
    try {
      const rows = await db.query<{ id: number; open_id: string; nickname: string; token_version: number }>('SELECT id, open_id, nickname, token_version FROM wechat_user ORDER BY id');
      assert.deepEqual(rows, [
        { id: 1, open_id: 'oOld1', nickname: 'Old One', token_version: 0 },
        { id: 2, open_id: 'oOld2', nickname: 'Old Two', token_version: 3 },
      ]);
      const [{ data_type }] = await db.query<{ data_type: string }>(`SELECT data_type FROM information_schema.columns WHERE table_name = 'wechat_user' AND column_name = 'id'`);
      assert.equal(data_type, 'bigint');
      const relogin = await app.login({ openId: 'oOld2', nickName: 'Back' });
      assert.equal(relogin.status, 200, relogin.text);
      assert.equal(relogin.body.user.id, 2);
      assert.equal((await app.request('GET', '/users/me', { token: relogin.body.token })).status, 200);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});

test('without Redis, session keys are rows of their own: sealed, never evicted by other users, kept across a restart', async () => {
  const db = await createTestDatabase({ schema: 'migrated' });
  let app = await startTestApp({ db });
  try {
    const openId = newOpenId();
    const login = await app.login({ openId }, 'code');
    assert.equal(login.status, 200, login.text);
    const sessionKey = app.wechat.currentSessionKey(openId)!;
    const [row] = await db.query<{ session_key: string }>('SELECT session_key FROM wechat_session_key WHERE open_id = $1', [openId]);
    assert.ok(row, 'stored in the database');
    assert.ok(!row.session_key.includes(sessionKey), 'sealed, not the key itself');
    // Other users' logins cannot push it out: the memory caches are bounded, this store is not a cache.
    for (let i = 0; i < 20; i++) assert.equal((await app.login({ openId: newOpenId() }, 'code')).status, 200);
    assert.equal(await app.running.app.get(SessionKeyStore).get(TEST_APPID, openId), sessionKey);
    // A returning user's login (one statement for the user and the key) replaces the key with WeChat's newest.
    const again = await app.login({ openId }, 'code');
    assert.equal(again.status, 200, again.text);
    const newest = app.wechat.currentSessionKey(openId)!;
    assert.notEqual(newest, sessionKey);
    assert.equal(await app.running.app.get(SessionKeyStore).get(TEST_APPID, openId), newest);
    assert.equal((await db.query('SELECT 1 FROM wechat_session_key WHERE open_id = $1', [openId])).length, 1, 'one row per identity');
    // A restarted instance still has it: a legacy phone decrypt works without a new login.
    const wechat = app.wechat;
    await app.close();
    app = await startTestApp({ db });
    const data = wechat.encryptPhoneForSession(openId, '13900001234');
    const phone = await app.request('POST', '/wechat/phone', { token: again.body.token, body: data });
    assert.equal(phone.status, 200, phone.text);
    assert.equal(phone.body.phoneNumber, '13900001234');
  } finally {
    await app.close();
    await db.drop();
  }
});
