/**
 * The server access_token seen from outside: the real app talking over HTTP to the fake
 * WeChat, driven through POST /wechat/phone `{ code }` (which needs the token). Every number of
 * `stable_token` calls is asserted exactly.
 *
 * The last suite runs two instances sharing Redis (REDIS_URL): one in this process, one in a child
 * process, so the only thing they share is Redis, the database and the fake WeChat.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { createClient } from '@keyv/redis';
import { createApp, type RunningApp } from '../src/bootstrap';
import { PHONE_NUMBER_PATH, STABLE_TOKEN_PATH } from '../src/sandbox/wechat-simulator';
import { FaultyWechatSimulator } from './support/faulty-wechat-simulator';
import { startWechatSimulatorServer, type WechatSimulatorServer } from '../src/sandbox/wechat-simulator.server';
import { callApp, startTestApp, TEST_APPID, TEST_JWT_SECRET, TEST_SECRET, type HttpAnswer, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** What a request to the app answered, parsed. */
const call = (baseUrl: string, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<HttpAnswer> => callApp(baseUrl, method, path, opts);

/** No fault here hangs: a generous upstream timeout keeps a loaded machine from failing the counts. */
const RELAXED_TIMEOUT = { WECHAT_TIMEOUT_MS: '5000' };

let phoneSeq = 0;
/** A distinct mainland number per request, so each answer can be matched to its code. */
const nextPhone = () => `139${String(process.pid % 10_000).padStart(4, '0')}${String(++phoneSeq % 10_000).padStart(4, '0')}`;

/**
 * Fires one `POST /wechat/phone { code }` per base URL in `targets`, all at once, each with a fresh
 * code from `sim`, and asserts every answer is 200 with its own number.
 */
async function phoneBurst(sim: FaultyWechatSimulator, targets: string[], token: string): Promise<void> {
  const jobs = targets.map((baseUrl) => {
    const phoneNumber = nextPhone();
    const { code } = sim.issuePhoneCode({ phoneNumber });
    return { baseUrl, phoneNumber, code };
  });
  const answers = await Promise.all(jobs.map((j) => call(j.baseUrl, 'POST', '/wechat/phone', { token, body: { code: j.code } })));
  answers.forEach((res, i) => {
    assert.equal(res.status, 200, `request ${i} to ${jobs[i].baseUrl}: ${res.status} ${res.text}`);
    assert.equal(res.body.phoneNumber, jobs[i].phoneNumber);
  });
}

/** The bodies of the stable_token calls the fake received since its last reset(). */
function stableTokenBodies(sim: FaultyWechatSimulator): Record<string, unknown>[] {
  return sim.requests.filter((r) => r.path === STABLE_TOKEN_PATH).map((r) => r.body as Record<string, unknown>);
}

function expectedTokenBody(appid: string, secret: string, forceRefresh: boolean) {
  return { grant_type: 'client_credential', appid, secret, force_refresh: forceRefresh };
}

/** The access_token each getuserphonenumber call carried, in arrival order. */
function phoneCallTokens(sim: FaultyWechatSimulator): string[] {
  return sim.requests.filter((r) => r.path === PHONE_NUMBER_PATH).map((r) => r.query.access_token);
}

/** Counts of each distinct value, for "10 with the old token, 10 with the new one". */
function tally(values: string[]): number[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.values()].sort((a, b) => a - b);
}

/**
 * Holds back WeChat's answers to the next `n` getuserphonenumber calls for `ms`, so that all `n`
 * concurrent requests have read the cached (now refused) token before the first refusal comes back
 * and makes the app drop it. Without this, a request that reads the cache after the drop waits for
 * the new token and is never refused, and "n refused + n retried" would depend on timing.
 */
function holdBackRefusals(sim: FaultyWechatSimulator, n: number, ms = 400): void {
  sim.fail(PHONE_NUMBER_PATH, { kind: 'delay', ms }, n);
}

async function loginToken(app: TestApp): Promise<string> {
  const res = await app.login(undefined, 'code');
  assert.equal(res.status, 200, res.text);
  return res.body.token;
}

describe('access token, one instance: cold cache, warm cache, expired token', () => {
  let app: TestApp;
  let token: string;

  before(async () => {
    app = await startTestApp({ env: RELAXED_TIMEOUT });
    token = await loginToken(app);
  });
  after(async () => {
    await app?.close();
  });
  beforeEach(() => {
    app.wechat.reset();
    app.wechat.tokenDelayMs = 200;
  });

  test('30 concurrent requests on a cold cache make exactly 1 stable_token call (force_refresh false)', async () => {
    assert.equal(app.wechat.accessTokensIssued, 0);
    await phoneBurst(app.wechat, Array(30).fill(app.baseUrl), token);
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 1);
    assert.deepEqual(stableTokenBodies(app.wechat), [expectedTokenBody(TEST_APPID, TEST_SECRET, false)]);
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 30);
    assert.deepEqual(tally(phoneCallTokens(app.wechat)), [30], 'every call carries the one token');
  });

  test('a warm token: 0 more stable_token calls', async () => {
    await phoneBurst(app.wechat, Array(5).fill(app.baseUrl), token);
    await phoneBurst(app.wechat, Array(5).fill(app.baseUrl), token);
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 0);
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 10);
  });

  test('an expired token (42001): 1 forced refresh for 10 concurrent requests, each retried once', async () => {
    app.wechat.expireAccessTokens();
    holdBackRefusals(app.wechat, 10);
    await phoneBurst(app.wechat, Array(10).fill(app.baseUrl), token);
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 1);
    assert.deepEqual(stableTokenBodies(app.wechat), [expectedTokenBody(TEST_APPID, TEST_SECRET, true)]);
    assert.equal(app.wechat.forcedRefreshes, 1);
    // 10 refused with the expired token + 10 retried with the new one.
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 20);
    assert.deepEqual(tally(phoneCallTokens(app.wechat)), [10, 10]);

    // The new token is cached: the next request makes no token call.
    await phoneBurst(app.wechat, [app.baseUrl], token);
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 1);
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 21);
  });
});

describe('access token, one instance: errcode -1, revocations', () => {
  let app: TestApp;
  let token: string;

  before(async () => {
    app = await startTestApp({ env: RELAXED_TIMEOUT });
    token = await loginToken(app);
  });
  after(async () => {
    await app?.close();
  });
  beforeEach(() => {
    app.wechat.reset();
    app.wechat.tokenDelayMs = 200;
  });

  test('errcode -1 once on a cold stable_token: retried, the phone request succeeds (2 stable_token calls)', async () => {
    app.wechat.fail(STABLE_TOKEN_PATH, { errcode: -1 }, 1);
    await phoneBurst(app.wechat, [app.baseUrl], token);
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 2);
    const body = expectedTokenBody(TEST_APPID, TEST_SECRET, false);
    assert.deepEqual(stableTokenBodies(app.wechat), [body, body]);
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 1);
  });

  test('a revoked token (40001): 1 forced refresh for 10 concurrent requests, each retried once', async () => {
    app.wechat.revokeAccessTokens();
    holdBackRefusals(app.wechat, 10);
    await phoneBurst(app.wechat, Array(10).fill(app.baseUrl), token);
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 1);
    assert.deepEqual(stableTokenBodies(app.wechat), [expectedTokenBody(TEST_APPID, TEST_SECRET, true)]);
    assert.equal(app.wechat.forcedRefreshes, 1);
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 20);
    assert.deepEqual(tally(phoneCallTokens(app.wechat)), [10, 10]);
  });

  test('a second revocation within 30 s: 1 new token, but without force_refresh', async () => {
    app.wechat.revokeAccessTokens();
    holdBackRefusals(app.wechat, 10);
    await phoneBurst(app.wechat, Array(10).fill(app.baseUrl), token);
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 1);
    assert.deepEqual(stableTokenBodies(app.wechat), [expectedTokenBody(TEST_APPID, TEST_SECRET, false)]);
    assert.equal(app.wechat.forcedRefreshes, 0);
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 20);
    assert.deepEqual(tally(phoneCallTokens(app.wechat)), [10, 10]);
  });

  test('40014 (invalid token) on one call: 1 new token, the call retried once', async () => {
    app.wechat.fail(PHONE_NUMBER_PATH, { errcode: 40014 }, 1);
    await phoneBurst(app.wechat, [app.baseUrl], token);
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 1);
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 2);
  });

  test('a token refused again after the refresh: retried once only, then an upstream error', async () => {
    const { code } = app.wechat.issuePhoneCode();
    app.wechat.fail(PHONE_NUMBER_PATH, { errcode: 40001 }, 2);
    const res = await app.request('POST', '/wechat/phone', { token, body: { code } });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.body.code, 'WECHAT_BAD_RESPONSE');
    assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 1);
    assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 2);
  });
});

// ------------------------------------------------------------------------------------------------
// Two instances sharing Redis.

const REDIS_URL = process.env.REDIS_URL;

/**
 * Instance B: createApp() in a child process, configured from its environment. It prints its URL,
 * and stops when its stdin closes (so it never outlives this test process).
 */
const CHILD_SOURCE = `
const { createApp } = require(process.env.WXLOGIN_BOOTSTRAP);
(async () => {
  const running = await createApp({ logDestination: { write() {} } });
  await running.app.listen({ port: 0, host: '127.0.0.1' });
  const url = (await running.app.getUrl()).replace('[::1]', '127.0.0.1');
  process.stdout.write('LISTENING ' + url + '\\n');
  let stopping;
  const stop = () => (stopping ??= running.close().then(() => process.exit(0), () => process.exit(1)));
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
})().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + '\\n');
  process.exit(1);
});
`;

interface ChildInstance {
  url: string;
  stop(): Promise<void>;
}

async function startChildInstance(env: Record<string, string>): Promise<ChildInstance> {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env, WXLOGIN_BOOTSTRAP: join(__dirname, '..', 'src', 'bootstrap.js') };
  delete childEnv.NODE_TEST_CONTEXT;
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD_SOURCE], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`child instance did not start within 20 s: ${stderr}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const m = /LISTENING (\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (codeOrNull) => {
      clearTimeout(timer);
      reject(new Error(`child instance exited (${codeOrNull}) before listening: ${stderr}`));
    });
  });
  return {
    url,
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls GET /health on each URL until it answers 200 (at most 5 s). */
async function waitHealthy(urls: string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  for (const url of urls) {
    while ((await call(url, 'GET', '/health').catch(() => undefined))?.status !== 200) {
      if (Date.now() > deadline) throw new Error(`${url}/health did not answer 200 within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('two instances sharing Redis', { skip: REDIS_URL ? false : 'REDIS_URL not set: the two-instance Redis tests need a Redis server (e.g. REDIS_URL=redis://127.0.0.1:6379)' }, () => {
  // A fresh appid per run keeps this run's cache keys (access token, lock) apart from any other
  // run sharing the Redis server; user ids start at a random offset for the same reason (tv:<id>).
  const appid = `wxat${randomBytes(6).toString('hex')}`;
  const secret = `secret-${randomBytes(8).toString('hex')}`;
  const sim = new FaultyWechatSimulator({ appId: appid, secret });
  const openIds: string[] = [];
  const userIds: number[] = [];
  let server: WechatSimulatorServer;
  let db: TestDatabase;
  let dataDir: string;
  let a: RunningApp;
  let aUrl: string;
  let b: ChildInstance;

  const newOpenId = () => {
    const id = `oRedis${appid}x${openIds.length}`;
    openIds.push(id);
    return id;
  };

  /** wx.login on the fake, POST /wechat/login on `baseUrl`. */
  async function login(baseUrl: string, openId: string): Promise<{ token: string; id: number }> {
    const issued = sim.issueLoginCode({ openId });
    const res = await call(baseUrl, 'POST', '/wechat/login', { body: { code: issued.code } });
    assert.equal(res.status, 200, res.text);
    userIds.push(res.body.user.id);
    return { token: res.body.token, id: res.body.user.id };
  }

  before(async () => {
    server = await startWechatSimulatorServer(sim);
    db = await createTestDatabase({ schema: 'migrated' });
    dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-redis-test-'));
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      REDIS_URL: REDIS_URL!,
      WECHAT_APPID: appid,
      WECHAT_SECRET: secret,
      WECHAT_API_BASE_URL: server.url,
      WECHAT_TIMEOUT_MS: RELAXED_TIMEOUT.WECHAT_TIMEOUT_MS,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
    };
    a = await createApp({ env, logDestination: { write: () => undefined } });
    await a.app.listen({ port: 0, host: '127.0.0.1' });
    aUrl = (await a.app.getUrl()).replace('[::1]', '127.0.0.1');
    // Migrations have run (instance A): move the id sequence far from other runs' ids.
    await db.query(`SELECT setval(pg_get_serial_sequence('wechat_user', 'id'), $1)`, [randomInt(1_000_000, 2_000_000_000)]);
    b = await startChildInstance(env);
  });

  after(async () => {
    await b?.stop();
    await a?.close();
    await server?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    // Only the keys this run wrote (keyv namespace 'wxlogin', lock prefix 'wxlogin:lock:').
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const keys = [
        `wxlogin:at:${appid}`,
        `wxlogin:at-forced:${appid}`,
        `wxlogin:lock:access-token:${appid}`,
        ...openIds.map((o) => `wxlogin:sk:${appid}:${o}`),
        ...userIds.map((id) => `wxlogin:tv:${id}`),
      ];
      await redis.del(keys);
    } finally {
      await redis.close();
    }
  });

  beforeEach(() => {
    sim.reset();
    sim.tokenDelayMs = 200;
  });
  afterEach(() => {
    sim.tokenDelayMs = 0;
  });

  test('a freshly started instance answers its first requests (no 503 while it connects to Redis)', async () => {
    // The very first requests these instances get (before() made none).
    const firstOnA = await call(aUrl, 'POST', '/wechat/login', { body: { code: sim.issueLoginCode({ openId: newOpenId() }).code } });
    const firstOnB = await call(b.url, 'GET', '/health');
    // Whatever they answered, let both connect before the next tests.
    await waitHealthy([aUrl, b.url]);
    assert.equal(firstOnA.status, 200, `first login on A: ${firstOnA.text}`);
    assert.equal(firstOnB.status, 200, `first GET /health on B: ${firstOnB.text}`);
    userIds.push(firstOnA.body.user.id);
  });

  test('a cold start: 20 concurrent requests split across both instances make exactly 1 stable_token call', async () => {
    const { token } = await login(aUrl, newOpenId());
    assert.equal(sim.accessTokensIssued, 0);
    await phoneBurst(
      sim,
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? aUrl : b.url)),
      token,
    );
    assert.equal(sim.countRequests(STABLE_TOKEN_PATH), 1);
    assert.deepEqual(stableTokenBodies(sim), [expectedTokenBody(appid, secret, false)]);
    assert.equal(sim.countRequests(PHONE_NUMBER_PATH), 20);
    assert.deepEqual(tally(phoneCallTokens(sim)), [20], 'both instances use the one token');
  });

  test('a revoked token: 1 forced refresh between both instances', async () => {
    const { token } = await login(b.url, newOpenId());
    await phoneBurst(sim, [aUrl, b.url], token); // warm (from the previous test or now)
    sim.reset();
    sim.revokeAccessTokens();
    holdBackRefusals(sim, 10);
    await phoneBurst(
      sim,
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? aUrl : b.url)),
      token,
    );
    assert.equal(sim.countRequests(STABLE_TOKEN_PATH), 1);
    assert.deepEqual(stableTokenBodies(sim), [expectedTokenBody(appid, secret, true)]);
    assert.equal(sim.forcedRefreshes, 1);
    assert.equal(sim.countRequests(PHONE_NUMBER_PATH), 20);
    assert.deepEqual(tally(phoneCallTokens(sim)), [10, 10]);
  });

  test('login on A, legacy phone decrypt on B: B reads the session_key from Redis', async () => {
    const openId = newOpenId();
    const { token, id } = await login(aUrl, openId);
    const res = await call(b.url, 'POST', '/wechat/phone', { token, body: sim.encryptPhoneForSession(openId, '13712345678') });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.phoneNumber, '13712345678');
    // Stored sealed (never the number itself), and the owner reads it back in full.
    const rows = await db.query<{ mobile: string | null }>('SELECT mobile FROM wechat_user WHERE id = $1', [id]);
    assert.ok(rows[0]?.mobile && !rows[0].mobile.includes('13712345678'), 'sealed at rest');
    const me = await call(aUrl, 'GET', '/users/me', { token });
    assert.equal(me.body.mobile, '13712345678');

    // A new login on B gives a new session_key: A decrypts only data made with it.
    const old = sim.encryptPhoneForSession(openId, '13712345679');
    const again = await login(b.url, openId);
    const stale = await call(aUrl, 'POST', '/wechat/phone', { token: again.token, body: old });
    assert.equal(stale.status, 400, stale.text);
    assert.equal(stale.body.code, 'DECRYPT_FAILED');
    const fresh = await call(aUrl, 'POST', '/wechat/phone', { token: again.token, body: sim.encryptPhoneForSession(openId, '13712345680') });
    assert.equal(fresh.status, 200, fresh.text);
  });

  test('logout on B: A refuses the old token at once', async () => {
    const { token } = await login(aUrl, newOpenId());
    // Both instances have seen the token (and would cache its version if they cached locally).
    assert.equal((await call(aUrl, 'GET', '/users/me', { token })).status, 200);
    assert.equal((await call(b.url, 'GET', '/users/me', { token })).status, 200);
    assert.equal((await call(b.url, 'POST', '/auth/logout', { token })).status, 204);
    const onA = await call(aUrl, 'GET', '/users/me', { token });
    assert.equal(onA.status, 401, onA.text);
    assert.equal(onA.body.code, 'UNAUTHORIZED');
    assert.equal((await call(b.url, 'GET', '/users/me', { token })).status, 401);
  });
});
