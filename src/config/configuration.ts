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
  /** True when no credentials are configured: the in-process WeChat simulator answers instead. */
  sandbox: boolean;
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
 * Reads and validates every setting at once, so one failed boot names every problem.
 * `devJwtSecret` is used only outside production when JWT_SECRET is unset.
 */
export function loadConfig(env: Env, devJwtSecret?: (dataDir: string) => string, cwd = process.cwd(), devDataKey?: (dataDir: string) => string): AppConfig {
  const problems: string[] = [];
  const nodeEnv = env.NODE_ENV?.trim() || 'development';
  const production = nodeEnv === 'production';

  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (blank(raw)) return def;
    const n = Number(raw);
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
  const sandbox = !production && !appId && !secret;
  const wechat: WechatSettings = {
    appId: sandbox ? SANDBOX_APPID : appId,
    secret: sandbox ? SANDBOX_SECRET : secret,
    apiBaseUrl: (url('WECHAT_API_BASE_URL', ['http:', 'https:']) ?? DEFAULT_WECHAT_BASE).replace(/\/+$/, ''),
    timeoutMs: int('WECHAT_TIMEOUT_MS', 5000, 50, 120_000),
    sandbox,
    ...pushSettings(env, problems),
  };

  let jwtSecret = env.JWT_SECRET ?? '';
  let generated = false;
  if (!blank(jwtSecret) && jwtSecret.length < MIN_JWT_SECRET) {
    problems.push(`JWT_SECRET must be at least ${MIN_JWT_SECRET} characters`);
  } else if (blank(jwtSecret) && !production) {
    if (devJwtSecret) {
      jwtSecret = devJwtSecret(app.dataDir);
      generated = true;
    } else {
      problems.push('JWT_SECRET is required');
    }
  }
  let expiresInSeconds = 7 * 86400;
  if (!blank(env.JWT_EXPIRES_IN)) {
    const parsed = parseDuration(env.JWT_EXPIRES_IN);
    if (parsed === undefined) problems.push('JWT_EXPIRES_IN must be seconds or a duration like 2h, 7d');
    else expiresInSeconds = parsed;
  }

  const database: DatabaseSettings = {
    url: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    poolSize: int('DATABASE_POOL_SIZE', 10, 1, 200),
  };
  const cache: CacheSettings = { redisUrl: url('REDIS_URL', ['redis:', 'rediss:']) };

  const { avatars, dataProtection } = loadProfileSettings(env, app, problems, devDataKey);

  if (problems.length) throw new ConfigError(problems);
  return { app, database, cache, wechat, jwt: { secret: jwtSecret, expiresInSeconds, generated }, avatars, dataProtection };
}
