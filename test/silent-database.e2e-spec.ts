import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { healthBecomes, startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase } from './support/test-database';
import { TcpProxy } from './support/tcp-proxy';

const STATEMENT_TIMEOUT_MS = 1000;
/** What the service bounds a request's wait by: the statement timeout plus the pool checkout (3 s). */
const WAIT_BOUND_MS = STATEMENT_TIMEOUT_MS + 3000;

/** The answer, and how long it took; a request still unanswered after 30 s fails the test instead of hanging it. */
async function timed(app: TestApp, method: string, path: string, token: string, body?: object) {
  const started = Date.now();
  const res = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as { code?: string }, ms: Date.now() - started };
}

describe('a database that goes silent (the network path drops packets: no reset ever arrives)', () => {
  test('requests answer 503 within the statement timeout, /health says 503, the app heals by itself once the path is back, and still shuts down promptly', async () => {
    const db = await createTestDatabase({ schema: 'migrated' });
    const direct = new URL(db.url);
    const proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const app = await startTestApp({ db: { ...db, url: viaProxy.toString() }, env: { DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) } });
    let closed = false;
    try {
      const login = await app.login({ nickName: 'Offline' });
      assert.equal(login.status, 200, login.text);
      const token: string = login.body.token;
      // Several connections in the pool, as under load: all of them go silent together.
      const warm = await Promise.all(Array.from({ length: 4 }, (_, i) => timed(app, 'PATCH', '/users/me', token, { city: `Warm ${i}` })));
      assert.deepEqual(
        warm.map((r) => r.status),
        [200, 200, 200, 200],
      );
      assert.equal((await healthBecomes(app, 200)).status, 200);

      proxy.silence();
      const during = await Promise.all(Array.from({ length: 3 }, (_, i) => timed(app, 'PATCH', '/users/me', token, { city: `Silent ${i}` })));
      for (const r of during) {
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.equal(r.body.code, 'SERVICE_UNAVAILABLE');
        assert.ok(r.ms < WAIT_BOUND_MS + 2000, `answered after ${r.ms} ms, bound ${WAIT_BOUND_MS} ms`);
      }
      const unhealthy = await healthBecomes(app, 503, 10_000);
      assert.equal(unhealthy.status, 503, 'a pool that cannot answer is not healthy');
      // The avatar cache trusts deletions only while their listener's connection answers.
      assert.ok(
        app.logLines.some((l) => l.includes('database notifications lost their connection')),
        'the silent notifications connection was noticed',
      );

      // New connections get through again; the silenced ones never will.
      proxy.restore();
      const deadline = Date.now() + 30_000;
      let after = await timed(app, 'PATCH', '/users/me', token, { city: 'Back' });
      while (after.status !== 200 && Date.now() < deadline) {
        assert.equal(after.status, 503, JSON.stringify(after.body));
        await sleep(100);
        after = await timed(app, 'PATCH', '/users/me', token, { city: 'Back' });
      }
      assert.equal(after.status, 200, 'the pool replaced its dead connections without a restart');
      assert.equal((await healthBecomes(app, 200, 10_000)).status, 200);
      const [row] = await db.query<{ city: string }>(`SELECT city FROM wechat_user WHERE id = $1`, [login.body.user.id]);
      assert.equal(row.city, 'Back');

      // Closing waits on no connection that can never answer (the app's listener connection included).
      const closing = app.close().then(() => (closed = true));
      await Promise.race([closing, sleep(10_000)]);
      assert.ok(closed, 'the app closed within 10 s');
    } finally {
      // Bounded, so a failure above is reported as itself rather than as a hung test file.
      if (!closed) await Promise.race([app.close().catch(() => undefined), sleep(10_000)]);
      await proxy.close();
      await db.drop();
    }
  });
});
