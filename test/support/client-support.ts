import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createApp, type RunningApp } from '../../src/bootstrap';
import { freeLoopbackPort } from '../../src/common/system';
import sharp from 'sharp';
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built CommonJS file, found at run time
  return require(clientDist()) as ClientPackage;
}

/** A real image in a temporary file, as `<button open-type="chooseAvatar">` hands one to the page. */
export async function tempImage(dir: string, color = '#1e8cc8'): Promise<string> {
  const path = join(dir, `tmp_${Math.random().toString(36).slice(2)}.png`);
  writeFileSync(path, await sharp({ create: { width: 96, height: 96, channels: 3, background: color } }).png().toBuffer());
  return path;
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The Node stand-in for `wx` that `npm run demo` uses too. */
export function loadSandboxWx(): SandboxWxModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain script of the repository, found at run time
  return require(join(repoRoot(), 'scripts', 'sandbox-wx.js')) as SandboxWxModule;
}

export interface SandboxApp {
  baseUrl: string;
  running: RunningApp;
  /** The app's built-in fake WeChat (a real HTTP server the app calls). */
  simulator: WechatSimulator;
  db: TestDatabase;
  /** Every log line the app wrote (warn and above). */
  logLines: string[];
  close(): Promise<void>;
}

/** The real app in sandbox mode (no WeChat credentials) on its own fresh database, as `npm start` runs it. */
export async function startSandboxApp(env: Env = {}): Promise<SandboxApp> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-client-'));
  const logLines: string[] = [];
  // A known port, so the avatar URLs the sandbox WeChat fetches for its image check point here.
  const port = await freeLoopbackPort();
  let running: RunningApp;
  try {
    running = await createApp({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        WECHAT_SANDBOX: 'true',
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        ...env,
      },
      logDestination: { write: (line: string) => void logLines.push(line) },
    });
    await running.app.listen({ port, host: '127.0.0.1' });
  } catch (err) {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  if (!running.simulator) throw new Error('sandbox mode expected');
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    running,
    logLines,
    simulator: running.simulator,
    db,
    async close() {
      await running.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
