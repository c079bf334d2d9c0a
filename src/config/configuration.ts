import { isIP, isIPv4 } from 'node:net';
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { type IntegerSetting, integerSetting } from './integer-setting';
import { type AvatarSettings, type DataProtectionSettings, loadProfileSettings } from './profile-settings';

/** Typed configuration, one object per namespace. Parsed once from the environment at boot. */
export interface AppSettings {
  nodeEnv: string;
  production: boolean;
  port: number;
  host: string;
  logLevel: string;
  /** Where embedded PostgreSQL data and the generated development secret live. */
  dataDir: string;
}
export interface DatabaseSettings {
  /** `undefined` means: start the embedded PostgreSQL. */
  url: string | undefined;
  poolSize: number;
  /** No statement runs longer (PostgreSQL's statement_timeout); also bounds a request's wait on locks. */
  statementTimeoutMs: number;
}
export interface CacheSettings {
  /** `undefined` means: in-process memory cache. */
  redisUrl: string | undefined;
}
/** One mini program: its credentials and, optionally, its message push Token and EncodingAESKey. */
export interface WechatAppSettings {
  appId: string;
  secret: string;
  /** Message push (消息推送) Token; unset: this app's push route answers 404 (the sandbox makes its own). */
  pushToken?: string;
  /** Message push EncodingAESKey (43 characters), needed for safe and compatible mode. */
  pushAesKey?: string;
}
export interface WechatSettings {
  /**
   * Every configured mini program, never empty: WECHAT_APPS, or the one of WECHAT_APPID/WECHAT_SECRET
   * (with WECHAT_PUSH_TOKEN/WECHAT_PUSH_AES_KEY), or the sandbox's. The first is the one a database of
   * the one-app schema is adopted into (see README › Several mini programs).
   */
  apps: WechatAppSettings[];
  apiBaseUrl: string;
  timeoutMs: number;
  /**
   * The in-process WeChat simulator answers instead of WeChat. Only without credentials, outside
   * production, and only with the embedded database or when WECHAT_SANDBOX=true says so: the sandbox
   * logs anyone in as any openid, so it must never meet a real user table by accident.
   */
  sandbox: boolean;
  /** WECHAT_API_BASE_URL was set explicitly (in sandbox mode the simulator's own address is used otherwise). */
  apiBaseUrlSet: boolean;
}
export interface JwtSettings {
  secret: string;
  expiresInSeconds: number;
  /** True when the secret was generated for development rather than configured. */
  generated: boolean;
}
export interface AppConfig {
  app: AppSettings;
  database: DatabaseSettings;
  cache: CacheSettings;
  wechat: WechatSettings;
  jwt: JwtSettings;
  http: HttpSettings;
  avatars: AvatarSettings;
  dataProtection: DataProtectionSettings;
}

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export const SANDBOX_APPID = 'wx-sandbox-appid';
/** Most sandbox apps WECHAT_SANDBOX_APPS may ask for, and most entries WECHAT_APPS may list. */
export const MAX_SANDBOX_APPS = 9;
export const MAX_APPS = 50;
/** An appid as it may appear in a URL path and in cache keys (`…:{appId}:…`): no separator, no slash. */
export const APP_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const APP_KEYS = ['appId', 'secret', 'pushToken', 'pushAesKey'];
export const SANDBOX_SECRET = 'sandbox-secret-not-for-production';
const DEFAULT_WECHAT_BASE = 'https://api.weixin.qq.com';
const MIN_JWT_SECRET = 32;
/** A production secret of fewer different characters (`aaaa…`, `1212…`) is a placeholder, not a secret. */
const MIN_DISTINCT_SECRET_CHARACTERS = 8;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const NODE_ENVS = ['development', 'test', 'production'];

/** A push Token and EncodingAESKey, as the mini program console accepts them; `names` say where they came from. */
function pushSettings(token: string | undefined, aesKey: string | undefined, names: [string, string], problems: string[]): Pick<WechatAppSettings, 'pushToken' | 'pushAesKey'> {
  const pushToken = token?.trim() || undefined;
  const pushAesKey = aesKey?.trim() || undefined;
  if (pushToken !== undefined && !/^[A-Za-z0-9]{3,32}$/.test(pushToken)) problems.push(`${names[0]} must be 3 to 32 letters or digits (as the mini program console requires)`);
  if (pushAesKey !== undefined && !/^[A-Za-z0-9+/]{43}$/.test(pushAesKey)) problems.push(`${names[1]} must be the 43-character EncodingAESKey (letters and digits)`);
  if (pushAesKey !== undefined && pushToken === undefined) problems.push(`${names[1]} needs ${names[0]}`);
  return { ...(pushToken !== undefined ? { pushToken } : {}), ...(pushAesKey !== undefined ? { pushAesKey } : {}) };
}

/**
 * WECHAT_APPS: a JSON array of `{ appId, secret, pushToken?, pushAesKey? }`. Every problem is named
 * by its place (`WECHAT_APPS[1].secret`); a secret is never echoed.
 */
function parseApps(raw: string, problems: string[]): WechatAppSettings[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push('WECHAT_APPS must be a JSON array of { appId, secret, pushToken?, pushAesKey? } (it is not valid JSON)');
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > MAX_APPS) {
    problems.push(`WECHAT_APPS must be a JSON array of 1 to ${MAX_APPS} { appId, secret, pushToken?, pushAesKey? }`);
    return [];
  }
  const apps: WechatAppSettings[] = [];
  const seen = new Set<string>();
  parsed.forEach((entry: unknown, i) => {
    const at = `WECHAT_APPS[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return void problems.push(`${at} must be an object { appId, secret, pushToken?, pushAesKey? }`);
    const e = entry as Record<string, unknown>;
    const unknown = Object.keys(e).filter((k) => !APP_KEYS.includes(k));
    if (unknown.length) problems.push(`${at} has unknown fields: ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')} (allowed: ${APP_KEYS.join(', ')})`);
    for (const k of ['pushToken', 'pushAesKey']) if (e[k] !== undefined && typeof e[k] !== 'string') problems.push(`${at}.${k} must be a string`);
    const appId = typeof e.appId === 'string' ? e.appId.trim() : '';
    const secret = typeof e.secret === 'string' ? e.secret.trim() : '';
    if (!APP_ID_PATTERN.test(appId)) problems.push(`${at}.appId must be 1 to 64 letters, digits, _ or - (the mini program's AppID, wx…)`);
    else if (seen.has(appId)) problems.push(`${at}.appId ${appId} is listed twice`);
    seen.add(appId);
    if (!secret) problems.push(`${at}.secret is required (the mini program's AppSecret)`);
    const push = pushSettings(
      typeof e.pushToken === 'string' ? e.pushToken : undefined,
      typeof e.pushAesKey === 'string' ? e.pushAesKey : undefined,
      [`${at}.pushToken`, `${at}.pushAesKey`],
      problems,
    );
    apps.push({ appId, secret, ...push });
  });
  return apps;
}

/** The sandbox's apps: `wx-sandbox-appid`, then `wx-sandbox-appid-2`, `-3`, … (WECHAT_SANDBOX_APPS). */
export function sandboxAppId(index: number): string {
  return index === 0 ? SANDBOX_APPID : `${SANDBOX_APPID}-${index + 1}`;
}

/** Parses `7d`, `2h`, `30m`, `45s` or plain seconds. */
export function parseDuration(value: string): number | undefined {
  const m = /^\s*(\d{1,9})\s*(s|m|h|d)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const seconds = n * { s: 1, m: 60, h: 3600, d: 86400 }[unit as 's' | 'm' | 'h' | 'd'];
  return seconds > 0 && seconds <= MAX_TOKEN_LIFETIME_SECONDS ? seconds : undefined;
}

/** A token outliving a year is a typo, not a policy (and its `exp` must stay a small integer). */
const MAX_TOKEN_LIFETIME_SECONDS = 365 * 86400;

function blank(v: string | undefined): v is undefined {
  return v === undefined || v.trim() === '';
}

/**
 * Reads and validates every setting at once, so one failed boot names every problem. A pure function
 * of the environment: it reads and writes no file. Outside production an unset JWT_SECRET or
 * DATA_ENCRYPTION_KEY gets a random value for this process, marked `generated`; the start-up step
 * `keepDevelopmentSecrets` replaces it with one kept under the data folder.
 */
export function loadConfig(env: Env, cwd = process.cwd()): AppConfig {
  const problems: string[] = [];
  const nodeEnv = env.NODE_ENV === undefined || env.NODE_ENV === '' ? 'development' : env.NODE_ENV;
  // Exact values only: "staging" or "Production" must not quietly count as "not production".
  if (!NODE_ENVS.includes(nodeEnv)) problems.push(`NODE_ENV must be one of ${NODE_ENVS.join(', ')} (got "${nodeEnv}")`);
  const production = nodeEnv === 'production';

  const int = integerSetting(env, problems);
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = env[name];
    if (blank(raw)) return undefined;
    try {
      const u = new URL(raw.trim());
      if (!protocols.includes(u.protocol)) throw new Error();
      return raw.trim();
    } catch {
      problems.push(`${name} must be a ${protocols.map((p) => p.replace(':', '')).join('/')} URL`);
      return undefined;
    }
  };

  const appsRaw = env.WECHAT_APPS?.trim() ?? '';
  if (production) {
    const missing = [...(appsRaw ? [] : ['WECHAT_APPID', 'WECHAT_SECRET']), 'JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'DATABASE_URL'].filter((k) => blank(env[k]));
    const credentialsMissing = missing.some((k) => k.startsWith('WECHAT_'));
    if (missing.length) problems.push(`NODE_ENV=production requires ${missing.join(', ')}${credentialsMissing ? ' (or WECHAT_APPS instead of WECHAT_APPID/WECHAT_SECRET)' : ''}`);
  }

  const logLevel = (env.LOG_LEVEL?.trim() || 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const dataDirRaw = env.DATA_DIR?.trim() || '.data';
  const app: AppSettings = {
    nodeEnv,
    production,
    port: int('PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    logLevel,
    dataDir: isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw),
  };

  const appId = env.WECHAT_APPID?.trim() ?? '';
  const secret = env.WECHAT_SECRET?.trim() ?? '';
  if (appsRaw && (appId || secret || !blank(env.WECHAT_PUSH_TOKEN) || !blank(env.WECHAT_PUSH_AES_KEY))) {
    problems.push(
      'WECHAT_APPS is refused together with WECHAT_APPID/WECHAT_SECRET/WECHAT_PUSH_TOKEN/WECHAT_PUSH_AES_KEY: list every mini program (with its pushToken and pushAesKey) in WECHAT_APPS, or use the one-app variables alone',
    );
  } else if (!production && !appsRaw && Boolean(appId) !== Boolean(secret)) {
    problems.push('WECHAT_APPID and WECHAT_SECRET must be set together (leave both unset for the sandbox)');
  }
  if (appId && !APP_ID_PATTERN.test(appId)) problems.push("WECHAT_APPID must be 1 to 64 letters, digits, _ or - (the mini program's AppID, wx…)");
  const sandboxRaw = env.WECHAT_SANDBOX?.trim().toLowerCase() ?? '';
  if (!['', 'true', 'false'].includes(sandboxRaw)) problems.push(`WECHAT_SANDBOX must be true or false (got "${env.WECHAT_SANDBOX}")`);
  const sandboxAsked = sandboxRaw === 'true';
  const hasCredentials = Boolean(appId || secret || appsRaw);
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  if (sandboxAsked && production) problems.push('WECHAT_SANDBOX=true is refused in production: the sandbox can log anyone in as any user');
  if (sandboxAsked && hasCredentials) problems.push('WECHAT_SANDBOX=true is refused together with WECHAT_APPID/WECHAT_SECRET/WECHAT_APPS: choose the sandbox or the real WeChat');
  if (!production && !hasCredentials && databaseUrl && !sandboxAsked) {
    problems.push(
      'DATABASE_URL is set but WECHAT_APPID/WECHAT_SECRET (or WECHAT_APPS) are not: set the mini program credentials, or set WECHAT_SANDBOX=true to run the sandbox ' +
        '(which logs anyone in as any openid) against this database on purpose',
    );
  }
  const sandbox = !production && !hasCredentials && (!databaseUrl || sandboxAsked);
  const apiBaseUrl = url('WECHAT_API_BASE_URL', ['http:', 'https:']);
  const sandboxApps = int('WECHAT_SANDBOX_APPS', 1, 1, MAX_SANDBOX_APPS);
  if (sandboxApps > 1 && !sandbox) problems.push('WECHAT_SANDBOX_APPS applies to the sandbox only (unset it, or remove the WeChat credentials)');
  const onePush = () => pushSettings(env.WECHAT_PUSH_TOKEN, env.WECHAT_PUSH_AES_KEY, ['WECHAT_PUSH_TOKEN', 'WECHAT_PUSH_AES_KEY'], problems);
  const apps: WechatAppSettings[] = sandbox
    ? Array.from({ length: sandboxApps }, (_, i) => ({ appId: sandboxAppId(i), secret: SANDBOX_SECRET, ...(i === 0 ? onePush() : {}) }))
    : appsRaw
      ? parseApps(appsRaw, problems)
      : [{ appId, secret, ...onePush() }];
  const wechat: WechatSettings = {
    apps,
    apiBaseUrl: (apiBaseUrl ?? DEFAULT_WECHAT_BASE).replace(/\/+$/, ''),
    // The sandbox's appids are not WeChat's: a .env copied from .env.example naming the real server still gets the built-in fake.
    apiBaseUrlSet: apiBaseUrl !== undefined && !(sandbox && /(^|\.)weixin\.qq\.com$/i.test(new URL(apiBaseUrl).hostname)),
    timeoutMs: int('WECHAT_TIMEOUT_MS', 5000, 50, 120_000),
    sandbox,
  };

  let jwtSecret = env.JWT_SECRET ?? '';
  let generated = false;
  if (!blank(jwtSecret) && jwtSecret.trim().length < MIN_JWT_SECRET) {
    problems.push(`JWT_SECRET must be at least ${MIN_JWT_SECRET} characters (not counting spaces around it)`);
  } else if (production && !blank(jwtSecret) && new Set(jwtSecret).size < MIN_DISTINCT_SECRET_CHARACTERS) {
    problems.push(`JWT_SECRET is too weak: fewer than ${MIN_DISTINCT_SECRET_CHARACTERS} different characters (use e.g. \`openssl rand -base64 48\`)`);
  } else if (blank(jwtSecret) && !production) {
    jwtSecret = randomBytes(48).toString('base64url');
    generated = true;
  }
  let expiresInSeconds = 7 * 86400;
  if (!blank(env.JWT_EXPIRES_IN)) {
    const parsed = parseDuration(env.JWT_EXPIRES_IN);
    if (parsed === undefined) problems.push(`JWT_EXPIRES_IN must be seconds or a duration like 2h, 7d, at most 365d (got "${env.JWT_EXPIRES_IN}")`);
    else expiresInSeconds = parsed;
  }

  const database: DatabaseSettings = {
    url: databaseUrl,
    poolSize: int('DATABASE_POOL_SIZE', 10, 1, 200),
    statementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
  };
  const cache: CacheSettings = { redisUrl: url('REDIS_URL', ['redis:', 'rediss:']) };

  const http = loadHttpSettings(env, production, int, problems);
  const { avatars, dataProtection } = loadProfileSettings(env, app, int, problems);

  if (problems.length) throw new ConfigError(problems);
  return { app, database, cache, wechat, jwt: { secret: jwtSecret, expiresInSeconds, generated }, http, avatars, dataProtection };
}

// ---- HTTP edge: timeouts, rate limit, proxies, docs, CORS ----

export interface HttpSettings {
  /** A request (headers and body) not received in full by then is answered 408 and closed. */
  requestTimeoutMs: number;
  /** POST /wechat/login attempts per client IP per minute; 0 turns the limit off. */
  loginRateLimit: number;
  /** Fastify's `trustProxy`: false, true (every hop), a hop count, or a list of proxy addresses/CIDRs. */
  trustProxy: boolean | number | string;
  /** Serve Swagger UI at /docs and the OpenAPI document at /docs-json. */
  docsEnabled: boolean;
  /** Browser origins allowed by CORS; empty means no CORS headers at all. */
  corsOrigins: string[];
}

function loadHttpSettings(env: Env, production: boolean, int: IntegerSetting, problems: string[]): HttpSettings {
  const bool = (name: string, def: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (!raw) return def;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name} must be true or false (got "${env[name]}")`);
    return def;
  };

  const trustRaw = env.TRUST_PROXY?.trim() ?? '';
  let trustProxy: HttpSettings['trustProxy'] = false;
  if (/^(true|false)$/i.test(trustRaw)) trustProxy = trustRaw.toLowerCase() === 'true';
  else if (/^\d{1,2}$/.test(trustRaw)) trustProxy = Number(trustRaw);
  else if (trustRaw) {
    const bad = trustRaw.split(',').filter((part) => !isProxyAddress(part.trim()));
    if (bad.length === 0) trustProxy = trustRaw;
    else problems.push(`TRUST_PROXY must be true, false, a number of proxy hops (0–99), or comma-separated proxy addresses/CIDRs (not ${bad.map((b) => `"${b.trim()}"`).join(', ')})`);
  }

  const corsOrigins = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (!isOrigin(origin)) problems.push(`CORS_ORIGINS must be comma-separated origins like https://admin.example.com (got "${origin}")`);
  }

  return {
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    loginRateLimit: int('LOGIN_RATE_LIMIT', 300, 0, 1_000_000),
    trustProxy,
    docsEnabled: bool('DOCS_ENABLED', !production),
    corsOrigins: corsOrigins.map((o) => o.replace(/\/+$/, '')),
  };
}

/** `https://host[:port]` exactly as a browser sends it in `Origin` (a trailing slash tolerated). */
function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === value.replace(/\/+$/, '');
  } catch {
    return false;
  }
}

/** What proxy-addr (Fastify's) takes: an address, a CIDR, an IPv4 address/netmask, or loopback, linklocal, uniquelocal. */
function isProxyAddress(part: string): boolean {
  if (/^(loopback|linklocal|uniquelocal)$/i.test(part)) return true;
  const [address, range, ...rest] = part.split('/');
  const version = isIP(address);
  if (!version || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (version === 4 ? 32 : 128);
  return version === 4 && isIPv4(range);
}
