/**
 * LOGIN_RATE_LIMIT: POST /wechat/login attempts per client IP a minute, 429 TOO_MANY_REQUESTS with
 * Retry-After beyond; TRUST_PROXY decides whether X-Forwarded-For names the client. With REDIS_URL
 * the count is shared by every instance (skipped, saying so, when REDIS_URL is unset).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@keyv/redis';
import { JSCODE2SESSION_PATH } from '../src/sandbox/wechat-simulator';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { callApp, startTestApp, type HttpAnswer, type TestApp } from './support/test-app';

const REDIS_URL = process.env.REDIS_URL;

function assertLimited(answer: HttpAnswer): void {
  assert.equal(answer.status, 429, answer.text);
  assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'message', 'statusCode']);
  assert.equal(answer.body.statusCode, 429);
  assert.equal(answer.body.code, 'TOO_MANY_REQUESTS');
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  const retryAfter = Number(answer.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${answer.headers.get('retry-after')}`);
  assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
}

/** A login attempt that fails validation: it counts all the same (the limit runs before the body is read). */
const attempt = (app: TestApp, headers: Record<string, string> = {}) => app.request('POST', '/wechat/login', { body: {}, headers });

describe('login rate limit, one instance (memory)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { LOGIN_RATE_LIMIT: '3' } });
  });
  after(async () => {
    await app?.close();
  });

  test('the 4th login in a minute gets 429 with Retry-After, and WeChat is not asked', async () => {
    for (let i = 0; i < 3; i++) {
      const login = await app.login({ nickName: `Limited${i}` });
      assert.equal(login.status, 200, login.text);
    }
    const calls = app.wechat.countRequests(JSCODE2SESSION_PATH);
    const fourth = await app.login({ nickName: 'Limited3' });
    assertLimited(fourth);
    assert.match(fourth.body.message, /retry in/i);
    assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), calls, 'a refused attempt costs no upstream call');
  });

  test('without TRUST_PROXY, X-Forwarded-For does not make another client', async () => {
    assertLimited(await attempt(app, { 'x-forwarded-for': '203.0.113.77' }));
  });

  test('other routes are not limited', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await app.request('GET', '/health')).status, 200);
    const login = await app.login({ nickName: 'x' }).catch(() => undefined);
    assert.equal(login?.status, 429, 'still limited');
  });
});

describe('login rate limit behind a proxy (TRUST_PROXY=true)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { LOGIN_RATE_LIMIT: '3', TRUST_PROXY: 'true' } });
  });
  after(async () => {
    await app?.close();
  });

  test('each X-Forwarded-For client is counted on its own', async () => {
    const first = { 'x-forwarded-for': '198.51.100.1' };
    for (let i = 0; i < 3; i++) assert.equal((await attempt(app, first)).status, 400);
    assertLimited(await attempt(app, first));
    // Another client behind the same proxy still gets in.
    const issued = app.wechat.issueLoginCode({ nickName: 'Other' });
    const other = await app.request('POST', '/wechat/login', { body: { code: issued.code }, headers: { 'x-forwarded-for': '198.51.100.2' } });
    assert.equal(other.status, 200, other.text);
  });
});

describe('login rate limit behind one load balancer (TRUST_PROXY=1)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { LOGIN_RATE_LIMIT: '3', TRUST_PROXY: '1' } });
  });
  after(async () => {
    await app?.close();
  });

  test('the address the balancer appended names the client; what the client wrote before it does not', async () => {
    // The balancer appends the address it saw: whatever a client puts in front cannot make it someone else.
    for (const forwarded of ['203.0.113.5', '198.51.100.11, 203.0.113.5', '198.51.100.12, 203.0.113.5']) {
      assert.equal((await attempt(app, { 'x-forwarded-for': forwarded })).status, 400);
    }
    assertLimited(await attempt(app, { 'x-forwarded-for': '198.51.100.13, 203.0.113.5' }));
    // Another client behind the same balancer still gets in.
    const issued = app.wechat.issueLoginCode({ nickName: 'Other' });
    const other = await app.request('POST', '/wechat/login', { body: { code: issued.code }, headers: { 'x-forwarded-for': '203.0.113.6' } });
    assert.equal(other.status, 200, other.text);
  });
});

describe('LOGIN_RATE_LIMIT default and 0', () => {
  let limited: TestApp;
  let unlimited: TestApp;
  before(async () => {
    // The default of the service (the test helper turns the limit off for other files).
    limited = await startTestApp({ env: { LOGIN_RATE_LIMIT: undefined } });
    unlimited = await startTestApp({ env: { LOGIN_RATE_LIMIT: '0' } });
  });
  after(async () => {
    await limited?.close();
    await unlimited?.close();
  });

  test('by default, 300 attempts a minute pass and the 301st is refused', async () => {
    for (let i = 0; i < 300; i++) assert.equal((await attempt(limited)).status, 400, `attempt ${i + 1}`);
    assertLimited(await attempt(limited));
  });

  test('LOGIN_RATE_LIMIT=0 turns it off', async () => {
    for (let i = 0; i < 310; i++) assert.equal((await attempt(unlimited)).status, 400, `attempt ${i + 1}`);
    const issued = unlimited.wechat.issueLoginCode();
    assert.equal((await unlimited.request('POST', '/wechat/login', { body: { code: issued.code } })).status, 200);
  });
});

describe('login rate limit shared through Redis', { skip: REDIS_URL ? false : 'REDIS_URL not set: the shared rate-limit test needs a Redis server (e.g. REDIS_URL=redis://127.0.0.1:6379)' }, () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  // A client address of its own per run, so runs sharing the Redis server do not count each other.
  const clientIp = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
  const otherIp = `172.16.${randomInt(256)}.${randomInt(1, 255)}`;
  const key = `wxlogin:rl:wechat:login:${clientIp}`;
  const env = { REDIS_URL: REDIS_URL!, LOGIN_RATE_LIMIT: '3', TRUST_PROXY: 'true' };

  before(async () => {
    db = await createTestDatabase({ schema: 'migrated' });
    a = await startTestApp({ env, db });
    b = await startTestApp({ env, db });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      await redis.del([key, `wxlogin:rl:wechat:login:${otherIp}`]);
    } finally {
      await redis.close();
    }
  });

  test('two instances share the count, under a key of its own with the window as its expiry', async () => {
    const headers = { 'x-forwarded-for': clientIp };
    assert.equal((await attempt(a, headers)).status, 400);
    assert.equal((await attempt(b, headers)).status, 400);
    assert.equal((await attempt(a, headers)).status, 400);
    assertLimited(await attempt(b, headers));
    assertLimited(await attempt(a, headers));

    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      assert.equal(await redis.get(key), '5');
      const ttl = await redis.pTTL(key);
      assert.ok(ttl > 0 && ttl <= 60_000, `PTTL ${ttl}`);
    } finally {
      await redis.close();
    }
    // Another client is not affected.
    const other = await callApp(a.baseUrl, 'POST', '/wechat/login', { body: {}, headers: { 'x-forwarded-for': otherIp } });
    assert.equal(other.status, 400);
  });
});
