import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type RunningApp } from '../../src/bootstrap';
import { freeLoopbackPort } from '../../src/common/system';
import type { Env, WechatAppSettings } from '../../src/config/configuration';
import { FaultyWechatSimulator } from './faulty-wechat-simulator';
import { startWechatSimulatorServer, type WechatSimulatorServer } from '../../src/sandbox/wechat-simulator.server';
import { AvatarReviewService } from '../../src/profile/avatar-review.service';
import { WechatPushSender } from '../../src/sandbox/wechat-push-sender';
import { createTestDatabase, type TestDatabase } from './test-database';

export const TEST_APPID = 'wx1234567890test';
export const TEST_SECRET = 'test-app-secret-0123456789abcdef';
export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';
/** One data key for every test app, so apps sharing a database read each other's phone numbers. */
export const TEST_DATA_KEY = Buffer.alloc(32, 7).toString('base64');

/** Every field of the API's `User`, sorted: what `GET /users/me` and a login answer carry, no more. */
export const USER_FIELDS = [
  'avatarPending',
  'avatarUrl',
  'city',
  'country',
  'createdAt',
  'gender',
  'hasMobile',
  'id',
  'identities',
  'mobile',
  'mobileVerifiedAt',
  'nickname',
  'openId',
  'province',
  'unionId',
  'updatedAt',
];

export interface HttpAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApp {
  baseUrl: string;
  running: RunningApp;
  /** The fake WeChat server (real HTTP on loopback) the app talks to. */
  wechat: FaultyWechatSimulator;
  wechatUrl: string;
  wechatServer: WechatSimulatorServer;
  db: TestDatabase;
  /** Every log line the app wrote, as raw JSON text. */
  logLines: string[];
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<HttpAnswer<T>>;
  /** The configured mini programs (one unless `apps` was given). */
  apps: WechatAppSettings[];
  /**
   * Runs the sandbox-style flow against the fake: issue a wx.login code and log in with it. The
   * body names `input.appId` when given (the fake's first app otherwise, named only with several).
   */
  login(input?: Parameters<FaultyWechatSimulator['issueLoginCode']>[0], parts?: 'all' | 'code'): Promise<HttpAnswer>;
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

/** One HTTP request to an app at `baseUrl`: a JSON body (or exact text), an optional bearer token. */
export async function callApp<T = any>(baseUrl: string, method: string, path: string, opts: RequestOptions = {}): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return readAnswer<T>(await fetch(baseUrl + path, { method, headers, body }));
}

/** A response's status, headers, text and JSON body (undefined when the text is not JSON). */
export async function readAnswer<T = any>(res: Response): Promise<HttpAnswer<T>> {
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/**
 * The real application on a real port, on its own fresh database, talking to a fake WeChat that
 * is a real HTTP server on loopback. Nothing of the app itself is mocked.
 */
export async function startTestApp(options: { env?: Env; db?: TestDatabase; apps?: WechatAppSettings[] } = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase({ schema: 'migrated' }));
  const apps = options.apps ?? [{ appId: TEST_APPID, secret: TEST_SECRET }];
  // Several apps: WECHAT_APPS, and one fake WeChat simulating all of them (one Open Platform account).
  const credentials: Env = options.apps ? { WECHAT_APPS: JSON.stringify(options.apps), WECHAT_APPID: undefined, WECHAT_SECRET: undefined } : { WECHAT_APPID: TEST_APPID, WECHAT_SECRET: TEST_SECRET };
  const wechat = new FaultyWechatSimulator({ appId: apps[0].appId, secret: apps[0].secret, moreApps: apps.slice(1).map(({ appId, secret }) => ({ appId, secret })) });
  const server = await startWechatSimulatorServer(wechat);
  const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-test-'));
  const logLines: string[] = [];
  let running: RunningApp;
  try {
    running = await createApp({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        ...credentials,
        WECHAT_API_BASE_URL: server.url,
        WECHAT_TIMEOUT_MS: '1500',
        JWT_SECRET: TEST_JWT_SECRET,
        DATA_ENCRYPTION_KEY: TEST_DATA_KEY,
        LOG_LEVEL: 'debug',
        DATA_DIR: dataDir,
        // Tests log in far more often than a client IP may (the limit has tests of its own).
        LOGIN_RATE_LIMIT: '0',
        ...options.env,
      },
      logDestination: { write: (line: string) => void logLines.push(line) },
    });
    // A fixed PORT (tests of avatar URLs set it together with PUBLIC_BASE_URL), or any free one.
    await running.app.listen({ port: Number(options.env?.PORT ?? 0), host: '127.0.0.1' });
  } catch (err) {
    await server.close();
    if (!options.db) await db.drop();
    throw err;
  }
  const baseUrl = (await running.app.getUrl()).replace('[::1]', '127.0.0.1');

  const request: TestApp['request'] = (method, path, opts) => callApp(baseUrl, method, path, opts);
  // The fake WeChat's image verdicts reach the app as WeChat sends them: a wxa_media_check push,
  // signed and encrypted (safe mode), to the push route of the app that asked. An app without a push
  // Token has no push route; its verdicts go straight to the handler that route calls.
  const configured = running.config.wechat.apps;
  const pushPath = (appId: string) => (configured.length === 1 ? '/wechat/push' : `/wechat/push/${appId}`);
  const pushSenders = new Map(
    configured
      .filter((app) => app.pushToken)
      .map((app) => [app.appId, new WechatPushSender({ token: app.pushToken!, encodingAesKey: app.pushAesKey, appId: app.appId }, () => baseUrl + pushPath(app.appId))] as const),
  );
  wechat.onMediaVerdict = async (push) => {
    const pushSender = pushSenders.get(push.appid);
    if (!pushSender) return void (await running.app.get(AvatarReviewService).applyVerdict(push));
    const delivery = await pushSender.send({ ...push }, { mode: configured.find((a) => a.appId === push.appid)?.pushAesKey ? 'safe' : 'plain', format: 'xml' });
    if (delivery.status !== 200) throw new Error(`push answered ${delivery.status}: ${delivery.answer}`);
  };
  // The fake WeChat fetches avatar URLs on loopback only: a test never reaches out (others are judged unfetchable).
  const fetchOnLoopback = wechat.fetchMedia;
  wechat.fetchMedia = (url) => (/^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url) ? fetchOnLoopback(url) : Promise.resolve(undefined));

  return {
    baseUrl,
    running,
    wechat,
    wechatUrl: server.url,
    wechatServer: server,
    db,
    logLines,
    request,
    apps,
    async login(input, parts = 'all') {
      const issued = wechat.issueLoginCode(input);
      const appId = input?.appId ?? (apps.length > 1 ? apps[0].appId : undefined);
      const body = {
        code: issued.code,
        ...(parts === 'code' ? {} : { rawData: issued.rawData, signature: issued.signature, encryptedData: issued.encryptedData, iv: issued.iv }),
        ...(appId !== undefined ? { appId } : {}),
      };
      return request('POST', '/wechat/login', { body });
    },
    async close() {
      await running.close();
      await server.close();
      if (!options.db) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface SandboxApp {
  baseUrl: string;
  running: RunningApp;
  /** The app's built-in fake WeChat (a real HTTP server the app calls). */
  simulator: FaultyWechatSimulator;
  db: TestDatabase;
  /** Every log line the app wrote (warn and above). */
  logLines: string[];
  close(): Promise<void>;
}

/** The real app in sandbox mode (no WeChat credentials) on its own fresh database, as `npm start` runs it. */
export async function startSandboxApp(env: Env = {}): Promise<SandboxApp> {
  const db = await createTestDatabase({ schema: 'migrated' });
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
        LOGIN_RATE_LIMIT: '0',
        ...env,
      },
      logDestination: { write: (line: string) => void logLines.push(line) },
      createSimulator: (options) => new FaultyWechatSimulator(options),
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
    simulator: running.simulator as FaultyWechatSimulator,
    db,
    async close() {
      await running.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Polls `GET /health` until it answers `status` (it is re-checked at most once a second), within
 * `timeoutMs`; returns the last answer.
 */
export async function healthBecomes(app: TestApp, status: number, timeoutMs = 3000): Promise<HttpAnswer> {
  const deadline = Date.now() + timeoutMs;
  let answer = await app.request('GET', '/health');
  while (answer.status !== status && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer = await app.request('GET', '/health');
  }
  return answer;
}
