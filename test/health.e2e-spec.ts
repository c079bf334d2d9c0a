import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { healthBecomes, startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, serverUrl, type TestDatabase } from './support/test-database';

/** Runs SQL on the server's admin database (not the app's). */
async function admin(sql: string): Promise<void> {
  const c = new Client({ connectionString: serverUrl() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe('GET /health', () => {
  let app: TestApp;
  let second: TestApp | undefined;
  let db: TestDatabase;
  let refusing = false;

  const refuseConnections = async () => {
    refusing = true;
    await admin(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}' AND pid <> pg_backend_pid()`);
  };
  /** The app's own log of failed requests (error class, driver code, message), to explain a wrong status. */
  const failures = () =>
    app.logLines
      .filter((l) => l.includes('request failed'))
      .slice(-3)
      .join('');
  const allowConnections = async () => {
    await admin(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`);
    refusing = false;
  };

  before(async () => {
    db = await createTestDatabase({ schema: 'migrated' });
    app = await startTestApp({ db });
  });
  after(async () => {
    // The database can only be dropped (and the app closed cleanly) once it accepts connections again.
    if (refusing) await allowConnections().catch(() => undefined);
    await second?.close();
    await app?.close();
    await db?.drop();
  });

  test('200 { status: "ok" } without a token', async () => {
    const res = await app.request('GET', '/health');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.info?.database?.status, 'up');
  });

  describe('database unreachable, then back (same process, no restart)', () => {
    let token: string;
    /** A second instance on the same database (see `second` above): its memory cache knows nothing of the user. */

    before(async () => {
      second = await startTestApp({ db });
      const login = await app.login({ nickName: 'Before' });
      assert.equal(login.status, 200, login.text);
      token = login.body.token;
      // Warms the token version cache, so the guard itself does not need the database below:
      // what is tested is the route's own database access.
      const me = await app.request('GET', '/users/me', { token });
      assert.equal(me.status, 200, me.text);
      await refuseConnections();
    });

    test('GET /health → 503 JSON SERVICE_UNAVAILABLE', async () => {
      const health = await healthBecomes(app, 503);
      assert.equal(health.status, 503, health.text);
      assert.match(health.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(health.body.code, 'SERVICE_UNAVAILABLE');
      assert.equal(health.body.statusCode, 503);
      assert.equal(typeof health.body.message, 'string');
      assert.match(health.body.message, /database/);
      assert.doesNotMatch(health.text, /\bat .*\.js:\d+/, 'no stack trace');
      // Successful health checks are debug lines; a failing one is an error line.
      const lines = app.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request completed' && l.route === '/health');
      assert.ok(
        lines.some((l) => l.status === 503 && l.level === 50),
        JSON.stringify(lines.slice(-3)),
      );
      assert.ok(
        lines.some((l) => l.status === 200 && l.level === 20),
        JSON.stringify(lines.slice(-3)),
      );
    });

    test('PATCH /users/me (always hits the database) → 503 SERVICE_UNAVAILABLE, not 500', async () => {
      const patch = await app.request('PATCH', '/users/me', { token, body: { nickname: 'During' } });
      assert.equal(patch.status, 503, `${patch.text}\n${failures()}`);
      assert.deepEqual(Object.keys(patch.body).sort(), ['code', 'message', 'statusCode']);
      assert.equal(patch.body.code, 'SERVICE_UNAVAILABLE');
      assert.equal(patch.body.statusCode, 503);
    });

    test('GET /users/me is still served from the cache (the profile read needs no database)', async () => {
      const read = await app.request('GET', '/users/me', { token });
      assert.equal(read.status, 200, `${read.text}\n${failures()}`);
      assert.equal(read.body.nickname, 'Before');
    });

    test('a user whose profile is not cached → 503 SERVICE_UNAVAILABLE, not 500', async () => {
      // A token of a user this instance has not cached yet: a second app on the same database
      // has its own memory cache, so both the guard and the profile read need the database.
      const read = await second!.request('GET', '/users/me', { token });
      assert.equal(read.status, 503, `${read.text}\n${failures()}`);
      assert.equal(read.body.code, 'SERVICE_UNAVAILABLE');
    });

    test('the process is still up and answering while the database is away', async () => {
      const again = await app.request('GET', '/health');
      assert.equal(again.status, 503);
      const docs = await app.request('GET', '/docs-json');
      assert.equal(docs.status, 200);
    });

    test('once the database accepts connections again: /health 200 and PATCH 200 without a restart', async () => {
      await allowConnections();
      const healthy = await healthBecomes(app, 200);
      assert.equal(healthy.status, 200, healthy.text);
      assert.equal(healthy.body.status, 'ok');

      const patch = await app.request('PATCH', '/users/me', { token, body: { nickname: 'After' } });
      assert.equal(patch.status, 200, `${patch.text}\n${failures()}`);
      assert.equal(patch.body.nickname, 'After');
      const rows = await db.query<{ nickname: string }>('SELECT nickname FROM wechat_user');
      assert.deepEqual(
        rows.map((r) => r.nickname),
        ['After'],
      );
    });
  });
});
