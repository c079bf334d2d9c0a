import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
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
export interface WechatSettings {
  appId: string;
  secret: string;
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
  /** Message push (消息推送) Token; unset: the push route answers 404 (the sandbox makes its own). */
  pushToken?: string;
  /** Message push EncodingAESKey (43 characters), needed for safe and compatible mode. */
  pushAesKey?: string;
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
export const SANDBOX_SECRET = 'sandbox-secret-not-for-production';
const DEFAULT_WECHAT_BASE = 'https://api.weixin.qq.com';
const MIN_JWT_SECRET = 32;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const NODE_ENVS = ['development', 'test', 'production'];

/** WECHAT_PUSH_TOKEN / WECHAT_PUSH_AES_KEY, as the mini program console accepts them. */
function pushSettings(env: Env, problems: string[]): Pick<WechatSettings, 'pushToken' | 'pushAesKey'> {
  const pushToken = env.WECHAT_PUSH_TOKEN?.trim() || undefined;
  const pushAesKey = env.WECHAT_PUSH_AES_KEY?.trim() || undefined;
  if (pushToken !== undefined && !/^[A-Za-z0-9]{3,32}$/.test(pushToken)) problems.push('WECHAT_PUSH_TOKEN must be 3 to 32 letters or digits (as the mini program console requires)');
  if (pushAesKey !== undefined && !/^[A-Za-z0-9+/]{43}$/.test(pushAesKey)) problems.push('WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey (letters and digits)');
  if (pushAesKey !== undefined && pushToken === undefined) problems.push('WECHAT_PUSH_AES_KEY needs WECHAT_PUSH_TOKEN');
  return { pushToken, pushAesKey };
}

/** Parses `7d`, `2h`, `30m`, `45s` or plain seconds. */
export function parseDuration(value: string): number | undefined {
  const m = /^\s*(\d+)\s*(s|m|h|d)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const seconds = n * { s: 1, m: 60, h: 3600, d: 86400 }[unit as 's' | 'm' | 'h' | 'd'];
  return seconds > 0 ? seconds : undefined;
}

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

  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (blank(raw)) return def;
    // Plain decimal digits only: Number() would also take "0x1F90", "1e3" or " 12 ".
    const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return def;
    }
    return n;
  };
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

  if (production) {
    const missing = ['WECHAT_APPID', 'WECHAT_SECRET', 'JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'DATABASE_URL'].filter((k) => blank(env[k]));
    if (missing.length) problems.push(`NODE_ENV=production requires ${missing.join(', ')}`);
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
  if (!production && Boolean(appId) !== Boolean(secret)) {
    problems.push('WECHAT_APPID and WECHAT_SECRET must be set together (leave both unset for the sandbox)');
  }
  const sandboxRaw = env.WECHAT_SANDBOX?.trim().toLowerCase() ?? '';
  if (!['', 'true', 'false'].includes(sandboxRaw)) problems.push(`WECHAT_SANDBOX must be true or false (got "${env.WECHAT_SANDBOX}")`);
  const sandboxAsked = sandboxRaw === 'true';
  const hasCredentials = Boolean(appId || secret);
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  if (sandboxAsked && production) problems.push('WECHAT_SANDBOX=true is refused in production: the sandbox can log anyone in as any user');
  if (sandboxAsked && hasCredentials) problems.push('WECHAT_SANDBOX=true is refused together with WECHAT_APPID/WECHAT_SECRET: choose the sandbox or the real WeChat');
  if (!production && !hasCredentials && databaseUrl && !sandboxAsked) {
    problems.push(
      'DATABASE_URL is set but WECHAT_APPID/WECHAT_SECRET are not: set the mini program credentials, or set WECHAT_SANDBOX=true to run the sandbox ' +
        '(which logs anyone in as any openid) against this database on purpose',
    );
  }
  const sandbox = !production && !hasCredentials && (!databaseUrl || sandboxAsked);
  const apiBaseUrl = url('WECHAT_API_BASE_URL', ['http:', 'https:']);
  const wechat: WechatSettings = {
    appId: sandbox ? SANDBOX_APPID : appId,
    secret: sandbox ? SANDBOX_SECRET : secret,
    apiBaseUrl: (apiBaseUrl ?? DEFAULT_WECHAT_BASE).replace(/\/+$/, ''),
    apiBaseUrlSet: apiBaseUrl !== undefined,
    timeoutMs: int('WECHAT_TIMEOUT_MS', 5000, 50, 120_000),
    sandbox,
    ...pushSettings(env, problems),
  };

  let jwtSecret = env.JWT_SECRET ?? '';
  let generated = false;
  if (!blank(jwtSecret) && jwtSecret.length < MIN_JWT_SECRET) {
    problems.push(`JWT_SECRET must be at least ${MIN_JWT_SECRET} characters`);
  } else if (blank(jwtSecret) && !production) {
    jwtSecret = randomBytes(48).toString('base64url');
    generated = true;
  }
  let expiresInSeconds = 7 * 86400;
  if (!blank(env.JWT_EXPIRES_IN)) {
    const parsed = parseDuration(env.JWT_EXPIRES_IN);
    if (parsed === undefined) problems.push('JWT_EXPIRES_IN must be seconds or a duration like 2h, 7d');
    else expiresInSeconds = parsed;
  }

  const database: DatabaseSettings = {
    url: databaseUrl,
    poolSize: int('DATABASE_POOL_SIZE', 10, 1, 200),
    statementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
  };
  const cache: CacheSettings = { redisUrl: url('REDIS_URL', ['redis:', 'rediss:']) };

  const http = loadHttpSettings(env, production, int, problems);
  const { avatars, dataProtection } = loadProfileSettings(env, app, problems);

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

function loadHttpSettings(env: Env, production: boolean, int: (name: string, def: number, min: number, max: number) => number, problems: string[]): HttpSettings {
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
  else if (/^\d+$/.test(trustRaw)) trustProxy = Number(trustRaw);
  else if (trustRaw) {
    // proxy-addr (Fastify's) accepts addresses, CIDRs and the names loopback, linklocal, uniquelocal.
    if (trustRaw.split(',').every((part) => /^[0-9a-f.:/]+$|^(loopback|linklocal|uniquelocal)$/i.test(part.trim()))) trustProxy = trustRaw;
    else problems.push(`TRUST_PROXY must be true, false, a number of proxy hops, or comma-separated proxy addresses/CIDRs (got "${trustRaw}")`);
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
