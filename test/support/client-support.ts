import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createApp, type RunningApp } from '../../src/bootstrap';
import type { Env } from '../../src/config/configuration';
import type { WechatSimulator } from '../../src/sandbox/wechat-simulator';
import { createTestDatabase, type TestDatabase } from './test-database';
import { TEST_JWT_SECRET } from './test-app';

export type ClientPackage = typeof import('../../client/src');
export type SandboxWxModule = typeof import('../../scripts/sandbox-wx');

/** The repository root: the folder above this compiled file that holds client/package.json. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'client', 'package.json')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('repository root not found above ' + __dirname);
  }
}

/** Where `npm test` built the client with its own tsconfig (the ES2017 output that ships). */
export function clientDist(): string {
  const dir = process.env.CLIENT_DIST;
  if (!dir || !existsSync(join(dir, 'index.js'))) throw new Error('CLIENT_DIST is not set or not built: run the tests with `npm test`');
  return dir;
}

/** The shipped client, as a mini program would load it. */
export function loadClient(): ClientPackage {
  return require(clientDist()) as ClientPackage;
}

/** The Node stand-in for `wx` that `npm run demo` uses too. */
export function loadSandboxWx(): SandboxWxModule {
  return require(join(repoRoot(), 'scripts', 'sandbox-wx.js')) as SandboxWxModule;
}

export interface SandboxApp {
  baseUrl: string;
  running: RunningApp;
  /** The app's built-in fake WeChat (a real HTTP server the app calls). */
  simulator: WechatSimulator;
  db: TestDatabase;
  close(): Promise<void>;
}

/** The real app in sandbox mode (no WeChat credentials) on its own fresh database, as `npm start` runs it. */
export async function startSandboxApp(env: Env = {}): Promise<SandboxApp> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-client-'));
  let running: RunningApp;
  try {
    running = await createApp({
      env: { NODE_ENV: 'test', DATABASE_URL: db.url, WECHAT_SANDBOX: 'true', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'warn', DATA_DIR: dataDir, ...env },
      logDestination: { write: () => undefined },
    });
    await running.app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  if (!running.simulator) throw new Error('sandbox mode expected');
  return {
    baseUrl: (await running.app.getUrl()).replace('[::1]', '127.0.0.1'),
    running,
    simulator: running.simulator,
    db,
    async close() {
      await running.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
