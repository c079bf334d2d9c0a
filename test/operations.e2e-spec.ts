import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { Client } from 'pg';
import { freeLoopbackPort } from '../src/common/system';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { FaultyWechatSimulator } from './support/faulty-wechat-simulator';
import { startWechatSimulatorServer } from '../src/sandbox/wechat-simulator.server';
import { healthBecomes, startTestApp, TEST_APPID, TEST_JWT_SECRET, TEST_SECRET } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const MAIN = join(__dirname, '..', 'src', 'main.js');
const quiet = { log: () => undefined, warn: () => undefined };

/** `node main.js` as an operator runs it; resolves once it listens. */
async function startServerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Listening on')) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${output}`);
    }
    await sleep(50);
  }
  return { child, output: () => output, exited };
}

/** Whether `pid` runs (an exited orphan stays a zombie until init reaps it, which kill(pid, 0) does not tell). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** `node main.js` with `env` that is expected to stop by itself: its exit code and everything it printed. */
async function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, output };
}

describe('operations', () => {
  test('a hanging WeChat answers 503 within the timeout and leaks no socket; the pool stays bounded', async () => {
    const app = await startTestApp();
    try {
      app.wechat.fail('/sns/jscode2session', { kind: 'hang' }, 20);
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => app.login(undefined, 'code')));
      const elapsed = Date.now() - started;
      // The cause is the timeout (WECHAT_TIMEOUT_MS=1500), not a refused connection; the time bound only
      // tells "gave up" from "waited for ever", with room for a busy machine.
      for (const a of answers) assert.equal(a.body?.code, 'WECHAT_UNAVAILABLE', a.text);
      for (const a of answers) assert.match(a.body?.message, /no answer within 1500 ms/);
      assert.ok(elapsed < 20_000, `answered in ${elapsed} ms with WECHAT_TIMEOUT_MS=1500`);
      // The aborted requests' sockets are destroyed, not left hanging on the upstream.
      const deadline = Date.now() + 10_000;
      while ((await app.wechatServer.connections()) > 0 && Date.now() < deadline) await sleep(20);
      assert.equal(await app.wechatServer.connections(), 0, 'sockets of timed-out requests are closed');

      const ok = await Promise.all(Array.from({ length: 150 }, () => app.login(undefined, 'code')));
      assert.deepEqual([...new Set(ok.map((a) => a.status))], [200]);
      assert.ok(app.wechatServer.peakConnections() <= 64, `at most 64 upstream connections (saw ${app.wechatServer.peakConnections()})`);
    } finally {
      await app.close();
    }
  });

  test('the database stopped and started under a running app: 503 meanwhile, no crash, works again without a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-dbrestart-'));
    let pg = await EmbeddedPostgres.start({ dataDir, logger: quiet });
    const port = pg.port;
    const db: TestDatabase = {
      url: pg.url,
      name: 'postgres',
      async query(sql, params) {
        const c = new Client({ connectionString: pg.url });
        await c.connect();
        try {
          return (await c.query(sql, params as unknown[])).rows;
        } finally {
          await c.end();
        }
      },
      drop: async () => undefined,
    };
    const app = await startTestApp({ db });
    try {
      const login = await app.login({ nickName: 'Survivor' });
      assert.equal(login.status, 200, login.text);
      const token = login.body.token;

      await pg.stop();
      const health = await healthBecomes(app, 503, 15_000);
      assert.equal(health.status, 503);
      assert.equal(health.body.code, 'SERVICE_UNAVAILABLE');
      const patch = await app.request('PATCH', '/users/me', { token, body: { city: 'Offline' } });
      assert.equal(patch.status, 503, patch.text);
      assert.deepEqual(Object.keys(patch.body).sort(), ['code', 'message', 'statusCode']);
      assert.equal(patch.body.code, 'SERVICE_UNAVAILABLE');
      const cached = await app.request('GET', '/users/me', { token });
      assert.equal(cached.status, 200, 'the profile is served from the cache meanwhile');
      const failedLogin = await app.login(undefined, 'code');
      assert.equal(failedLogin.status, 503, failedLogin.text);

      pg = await EmbeddedPostgres.start({ dataDir, logger: quiet, port });
      const deadline = Date.now() + 15_000;
      let healthy = await healthBecomes(app, 200);
      while (healthy.status !== 200 && Date.now() < deadline) healthy = await healthBecomes(app, 200);
      assert.equal(healthy.status, 200, 'healthy again without a restart');
      const again = await app.request('GET', '/users/me', { token });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.nickname, 'Survivor');
      assert.equal((await app.login(undefined, 'code')).status, 200);
    } finally {
      await app.close();
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('SIGTERM with requests in flight: every accepted request is answered, then exit 0', async () => {
    const db = await createTestDatabase({ schema: 'migrated' });
    const sim = new FaultyWechatSimulator({ appId: TEST_APPID, secret: TEST_SECRET });
    const upstream = await startWechatSimulatorServer(sim);
    const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-sigterm-'));
    const port = await freeLoopbackPort();
    let answerNow!: () => void;
    const answered = new Promise<void>((resolve) => (answerNow = resolve));
    try {
      const server = await startServerProcess({
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        WECHAT_APPID: TEST_APPID,
        WECHAT_SECRET: TEST_SECRET,
        WECHAT_API_BASE_URL: upstream.url,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'info',
        DATA_DIR: dataDir,
      });
      // WeChat holds its answers: the logins are in flight when the signal arrives.
      sim.fail('/sns/jscode2session', { kind: 'hold', until: answered }, 10);
      const inFlight = Array.from({ length: 10 }, async () => {
        const { code } = sim.issueLoginCode();
        const res = await fetch(`http://127.0.0.1:${port}/wechat/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
        return { status: res.status, body: (await res.json()) as { token?: string } };
      });
      // The signal goes out once all ten have reached WeChat (so the server accepted them), however slow the machine.
      const inFlightBy = Date.now() + 20_000;
      while (sim.countRequests('/sns/jscode2session') < 10 && Date.now() < inFlightBy) await sleep(10);
      assert.equal(sim.countRequests('/sns/jscode2session'), 10, 'all ten are in flight');
      server.child.kill('SIGTERM');
      // WeChat answers once the server says it is shutting down: the requests complete while it drains.
      const drainingBy = Date.now() + 20_000;
      while (!/SIGTERM received/.test(server.output()) && Date.now() < drainingBy) await sleep(10);
      answerNow();
      const answers = await Promise.all(inFlight);
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(10).fill(200),
      );
      assert.ok(answers.every((a) => typeof a.body.token === 'string'));
      assert.equal(await server.exited, 0, server.output());
      assert.match(server.output(), /SIGTERM received/);
      // The last line says it stopped, after every request's line.
      const lines = server.output().trim().split('\n');
      assert.match(lines[lines.length - 1], /"msg":"stopped in \d+ ms"/, server.output());
      // The log's last batch, still in memory when the process exits, is written: each login's line is there.
      const loginLines = server
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"request completed"') && line.includes('"route":"/wechat/login"'));
      assert.equal(loginLines.length, 10, server.output());
      await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'no longer listening');
      const rows = await db.query('SELECT count(*)::int AS n FROM wechat_user');
      assert.equal(rows[0].n, 10);
    } finally {
      answerNow();
      await upstream.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('SIGTERM in zero-configuration mode stops the embedded PostgreSQL too, exit 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-sigterm-embedded-'));
    const port = await freeLoopbackPort();
    try {
      const server = await startServerProcess({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
      assert.match(server.output(), /SANDBOX MODE/);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(health.status, 200);
      assert.ok(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), 'embedded PostgreSQL is running');
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0, server.output());
      assert.equal(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), false, 'embedded PostgreSQL stopped');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  test('a signal during start-up, once the embedded PostgreSQL runs, stops it too (exit 0, never listens); so does SIGHUP once running', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-signal-at-start-'));
    const port = await freeLoopbackPort();
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    const children: ChildProcess[] = [];
    try {
      for (const [signal, at] of [
        ['SIGTERM', /Embedded PostgreSQL listening/],
        ['SIGINT', /Embedded PostgreSQL listening/],
        ['SIGHUP', /Listening on/],
      ] as const) {
        const child = spawn(process.execPath, [MAIN], {
          env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        let output = '';
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        // Signalled on the very line (not after a delay): the moment the database runs and the app is still being built.
        child.stdout!.on('data', (d) => {
          const before = output;
          output += d;
          if (!at.test(before) && at.test(output)) child.kill(signal);
        });
        child.stderr!.on('data', (d) => (output += d));
        assert.equal(await exited, 0, `${signal}:\n${output}`);
        assert.match(output, at, signal);
        if (signal !== 'SIGHUP') assert.doesNotMatch(output, /Listening on/, `${signal}: stopped before listening`);
        assert.equal(existsSync(pidFile), false, `${signal}: embedded PostgreSQL stopped\n${output}`);
      }
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const left = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
      if (left && running(left)) process.kill(left, 'SIGINT');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test(
    'a zero-configuration instance killed outright (SIGKILL) leaves its PostgreSQL running; the next start stops it and keeps the data',
    { skip: !existsSync('/proc/1/cmdline') || readFileSync('/proc/1/cmdline', 'utf8').includes('node') ? 'needs Linux, with an init that is not node' : false },
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-killed-'));
      const port = await freeLoopbackPort();
      const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' };
      const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
      const userOf = async (openId: string) => {
        const wx = (await (await fetch(`http://127.0.0.1:${port}/sandbox/wx-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ openId }) })).json()) as {
          code: string;
        };
        const login = await fetch(`http://127.0.0.1:${port}/wechat/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: wx.code }) });
        assert.equal(login.status, 200);
        return ((await login.json()) as { user: { id: number } }).user.id;
      };
      let leftover: number | undefined;
      const started: ChildProcess[] = [];
      try {
        const first = await startServerProcess(env);
        started.push(first.child);
        const id = await userOf('oKilledInstance0001');
        leftover = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        first.child.kill('SIGKILL');
        await first.exited;
        assert.ok(running(leftover), 'the killed instance left its PostgreSQL running');

        const second = await startServerProcess(env);
        started.push(second.child);
        assert.match(second.output(), /left running by an instance that was killed/);
        assert.equal(running(leftover), false, 'the leftover server was stopped');
        assert.equal(await userOf('oKilledInstance0001'), id, 'the same user: the data was kept');
        second.child.kill('SIGTERM');
        assert.equal(await second.exited, 0, second.output());
        assert.equal(existsSync(pidFile), false, 'embedded PostgreSQL stopped');
      } finally {
        // A failed assertion must not leave a server behind.
        for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        const last = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
        for (const pid of new Set([leftover, last])) if (pid && running(pid)) process.kill(pid, 'SIGINT');
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );

  test('a failed listen (port in use) in zero-configuration mode exits 1 and leaves no embedded PostgreSQL running', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-port-in-use-'));
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const { code, output } = await runToExit({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
      assert.equal(code, 1, output);
      assert.match(output, /EADDRINUSE|address already in use/i);
      assert.match(output, /embedded PostgreSQL/i, 'the embedded database had started');
      assert.equal(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), false, `embedded PostgreSQL stopped:\n${output}`);
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a production start that cannot reach its database exits 1, its log JSON lines a collector can read', async () => {
    const { code, output } = await runToExit({
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      WECHAT_APPID: TEST_APPID,
      WECHAT_SECRET: TEST_SECRET,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PUBLIC_BASE_URL: 'https://api.example.com',
      // Nothing listens there: connecting is refused, and retried a few times.
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freeLoopbackPort()}/nowhere`,
    });
    assert.equal(code, 1, output);
    const lines = output.split('\n').filter(Boolean);
    assert.match(lines.join('\n'), /Unable to connect to the database/);
    // Every line is one JSON record, but the last words on stderr for a human.
    for (const line of lines.filter((l) => !l.startsWith('Failed to start:'))) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    assert.ok(
      lines.some((l) => /^Failed to start: .*ECONNREFUSED/.test(l)),
      output,
    );
  });
});
