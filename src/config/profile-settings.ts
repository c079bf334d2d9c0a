import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { IntegerSetting } from './integer-setting';

/** Avatar uploads and the URL WeChat's image check fetches them from. */
export interface AvatarSettings {
  /** Largest upload in bytes; 0 turns avatar uploads off. */
  maxBytes: number;
  /** Origin WeChat reaches this service at, without a trailing slash (e.g. `https://api.example.com`). */
  publicBaseUrl: string;
}

/** One data key: its id (stored with every ciphertext) and the 32 bytes. */
export interface DataKey {
  id: string;
  key: Buffer;
}

/** Keys for data encrypted at rest (phone numbers). */
export interface DataProtectionSettings {
  /** Encrypts new values. */
  current: DataKey;
  /** Still decrypt (and find by lookup hash) values written under them: key rotation. */
  previous: DataKey[];
  /** True when the key was generated for development rather than configured. */
  generated: boolean;
}

export type Env = Record<string, string | undefined>;

export const DEFAULT_AVATAR_MAX_BYTES = 2 * 1024 * 1024;

/**
 * The key id: a fingerprint of the key (never the key), so a ciphertext names the key it needs and
 * two different keys never share an id.
 */
export function dataKeyId(key: Buffer): string {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'data-key-id', 6)).toString('base64url');
}

/** Parses a base64 (or base64url) 32-byte key; undefined when it is not one. */
export function parseDataKey(text: string): DataKey | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === 32 ? { id: dataKeyId(key), key } : undefined;
}

/**
 * AVATAR_MAX_BYTES, PUBLIC_BASE_URL, DATA_ENCRYPTION_KEY and DATA_ENCRYPTION_PREVIOUS_KEYS. Problems
 * are added to `problems` so one failed start names all of them. Outside production an unset
 * DATA_ENCRYPTION_KEY gets a random key for this process, marked `generated` (see keepDevelopmentSecrets).
 */
export function loadProfileSettings(
  env: Env,
  app: { production: boolean; port: number; dataDir: string },
  int: IntegerSetting,
  problems: string[],
): { avatars: AvatarSettings; dataProtection: DataProtectionSettings } {
  const blank = (v: string | undefined) => v === undefined || v.trim() === '';

  const maxBytes = int('AVATAR_MAX_BYTES', DEFAULT_AVATAR_MAX_BYTES, 0, 20 * 1024 * 1024);

  let publicBaseUrl = `http://localhost:${app.port}`;
  if (!blank(env.PUBLIC_BASE_URL)) {
    try {
      const u = new URL(env.PUBLIC_BASE_URL!.trim());
      if (!['http:', 'https:'].includes(u.protocol) || u.search || u.hash || u.username || u.password) throw new Error();
      if (app.production && u.protocol !== 'https:') problems.push('PUBLIC_BASE_URL must be an https URL in production (WeChat fetches avatars from it)');
      publicBaseUrl = u.toString().replace(/\/+$/, '');
    } catch {
      problems.push('PUBLIC_BASE_URL must be an http(s) origin, e.g. https://api.example.com');
    }
  } else if (app.production && maxBytes > 0) {
    problems.push('NODE_ENV=production requires PUBLIC_BASE_URL while avatar uploads are on (or set AVATAR_MAX_BYTES=0 to turn them off)');
  }

  let current: DataKey | undefined;
  let generated = false;
  if (!blank(env.DATA_ENCRYPTION_KEY)) {
    current = parseDataKey(env.DATA_ENCRYPTION_KEY!);
    if (!current) problems.push('DATA_ENCRYPTION_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)');
    // 32 random bytes hold about 30 different values; a key of a few (all zeros, say) is a placeholder.
    else if (app.production && new Set(current.key).size < 16) problems.push('DATA_ENCRYPTION_KEY is too weak: not random bytes (use `openssl rand -base64 32`)');
  } else if (!app.production) {
    current = parseDataKey(randomBytes(32).toString('base64'));
    generated = true;
  }
  // (Missing in production is reported with the other required variables.)

  const previous: DataKey[] = [];
  for (const part of (env.DATA_ENCRYPTION_PREVIOUS_KEYS ?? '').split(',').filter((p) => p.trim())) {
    const key = parseDataKey(part);
    if (key) previous.push(key);
    else problems.push('DATA_ENCRYPTION_PREVIOUS_KEYS must be comma-separated 32-byte base64 keys');
  }

  return {
    avatars: { maxBytes, publicBaseUrl },
    // A placeholder only when a problem was reported: loadConfig throws before it can be used.
    dataProtection: { current: current ?? { id: 'none', key: createHash('sha256').update('unset').digest() }, previous, generated },
  };
}
