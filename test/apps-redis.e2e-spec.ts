import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@keyv/redis';
import { createApp, type RunningApp } from '../src/bootstrap';
import { STABLE_TOKEN_PATH, WechatSimulator } from '../src/sandbox/wechat-simulator';
import { startWechatSimulatorServer, type WechatSimulatorServer } from '../src/sandbox/wechat-simulator.server';
import { callApp, TEST_JWT_SECRET } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const REDIS_URL = process.env.REDIS_URL;

/** Two instances sharing Redis, serving two mini programs: each app's token, lock and session keys are its own. */
describe('several mini programs on two instances sharing Redis', { skip: REDIS_URL ? false : 'REDIS_URL not set: needs a Redis server (e.g. REDIS_URL=redis://127.0.0.1:6379)' }, () => {
  // Fresh appids per run keep this run's keys apart from any other run sharing the Redis server.
  const run = randomBytes(5).toString('hex');
  const apps = [
    { appId: `wxA${run}`, secret: `secret-a-${run}` },
    { appId: `wxB${run}`, secret: `secret-b-${run}` },
  ];
  const sim = new WechatSimulator({ appId: apps[0].appId, secret: apps[0].secret, moreApps: [apps[1]] });
  let server: WechatSimulatorServer;
  let db: TestDatabase;
  const dataDirs: string[] = [];
  const instances: { running: RunningApp; url: string }[] = [];

  before(async () => {
    server = await startWechatSimulatorServer(sim);
    db = await createTestDatabase({ schema: 'migrated' });
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-apps-redis-'));
      dataDirs.push(dataDir);
      const running = await createApp({
        env: {
          NODE_ENV: 'test',
          DATABASE_URL: db.url,
          REDIS_URL: REDIS_URL!,
          WECHAT_APPS: JSON.stringify(apps),
          WECHAT_API_BASE_URL: server.url,
          WECHAT_TIMEOUT_MS: '3000',
          JWT_SECRET: TEST_JWT_SECRET,
          LOG_LEVEL: 'warn',
          DATA_DIR: dataDir,
        },
        logDestination: { write: () => undefined },
      });
      await running.app.listen({ port: 0, host: '127.0.0.1' });
      // Migrations have run: user ids start far from other runs' (cached users are keyed by id in the shared Redis).
      if (i === 0) await db.query(`SELECT setval(pg_get_serial_sequence('wechat_user', 'id'), $1)`, [randomInt(1_000_000, 2_000_000_000)]);
      instances.push({ running, url: (await running.app.getUrl()).replace('[::1]', '127.0.0.1') });
    }
  });

  after(async () => {
    for (const { running } of instances) await running.close();
    await server?.close();
    await db?.drop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      for (const prefix of ['wxlogin:*', 'wxlogin:lock:*']) {
        for (const { appId } of apps) {
          const keys = await redis.keys(prefix.replace('*', `*${appId}*`));
          if (keys.length) await redis.del(keys);
        }
      }
    } finally {
      await redis.close();
    }
  });

  test('a burst in both apps on both instances makes one stable_token call per app; session keys are shared per app', async () => {
    const unionId = `uRedis${run}`;
    // Log in on instance 0, ask on instance 1: the session key of each app is found through Redis.
    const logins: { token: string; user: { id: number; openId: string } }[] = [];
    for (const { appId } of apps) {
      const issued = sim.issueLoginCode({ appId, unionId });
      const res = await callApp(instances[0].url, 'POST', '/wechat/login', { body: { code: issued.code, appId } });
      assert.equal(res.status, 200, res.text);
      logins.push(res.body);
    }
    assert.equal(logins[0].user.id, logins[1].user.id, 'one account');
    sim.reset();
    sim.tokenDelayMs = 200;
    try {
      const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => callApp(instances[i % 2].url, 'GET', '/wechat/session', { token: logins[Math.floor(i / 2) % 2].token })));
      for (const answer of answers) {
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(answer.body, { valid: true });
      }
    } finally {
      sim.tokenDelayMs = 0;
    }
    const calls = sim.requests.filter((r) => r.path === STABLE_TOKEN_PATH).map((r) => (r.body as { appid: string }).appid);
    assert.deepEqual(calls.sort(), apps.map((a) => a.appId).sort(), 'one upstream token call per app across both instances');

    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const [a, b] = await Promise.all(apps.map(({ appId }) => redis.get(`wxlogin:at:${appId}`)));
      assert.ok(a && b && a !== b, 'each app has its own cached access token');
      for (let i = 0; i < 2; i++) assert.ok(await redis.exists(`wxlogin:sk:${apps[i].appId}:${logins[i].user.openId}`), `the session key of app ${i} is under its appid`);
    } finally {
      await redis.close();
    }
  });
});
