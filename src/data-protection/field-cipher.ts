import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { DataKey, DataProtectionSettings } from '../config/profile-settings';

/** A stored value: `v1.<key id>.<base64url of iv | AES-256-GCM ciphertext | tag>`. */
const ENVELOPE = { version: 'v1', ivBytes: 12, tagBytes: 16 } as const;

interface DerivedKey {
  id: string;
  encryption: Buffer;
  lookup: Buffer;
}

/** A stored value could not be decrypted: unknown key id, tampered, or not an envelope at all. */
export class FieldDecryptError extends Error {
  constructor(reason: string) {
    super(`encrypted field could not be opened: ${reason}`);
    this.name = 'FieldDecryptError';
  }
}

/**
 * Encryption of single fields at rest: AES-256-GCM under a key derived from DATA_ENCRYPTION_KEY,
 * the envelope `v1.<keyId>.<base64url(iv ‖ ciphertext ‖ tag)>` naming the key it was made with,
 * and the field's purpose bound in as associated data (a ciphertext moved to another column does
 * not open). Lookup hashes are HMAC-SHA256 under a second derived key, so equal values can be found
 * without decrypting anything; after a key rotation a value has one hash per known key.
 */
export class FieldCipher {
  private readonly current: DerivedKey;
  private readonly byId = new Map<string, DerivedKey>();

  constructor(settings: Pick<DataProtectionSettings, 'current' | 'previous'>) {
    this.current = derive(settings.current);
    for (const key of [settings.current, ...settings.previous]) if (!this.byId.has(key.id)) this.byId.set(key.id, derive(key));
  }

  get keyId(): string {
    return this.current.id;
  }

  seal(plaintext: string, purpose: string): string {
    const iv = randomBytes(ENVELOPE.ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.current.encryption, iv);
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${ENVELOPE.version}.${this.current.id}.${body.toString('base64url')}`;
  }

  open(envelope: string, purpose: string): string {
    const [version, keyId, data, extra] = envelope.split('.');
    if (version !== ENVELOPE.version || !keyId || !data || extra !== undefined) throw new FieldDecryptError('not an envelope');
    const key = this.byId.get(keyId);
    if (!key) throw new FieldDecryptError(`unknown key id ${keyId} (is a previous key missing from DATA_ENCRYPTION_PREVIOUS_KEYS?)`);
    const body = Buffer.from(data, 'base64url');
    if (body.length < ENVELOPE.ivBytes + ENVELOPE.tagBytes) throw new FieldDecryptError('too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.encryption, body.subarray(0, ENVELOPE.ivBytes));
      decipher.setAAD(Buffer.from(purpose, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - ENVELOPE.tagBytes));
      return Buffer.concat([decipher.update(body.subarray(ENVELOPE.ivBytes, body.length - ENVELOPE.tagBytes)), decipher.final()]).toString('utf8');
    } catch {
      throw new FieldDecryptError('authentication failed');
    }
  }

  /** Whether a stored value is one of our envelopes (rather than legacy plain text). */
  static isEnvelope(value: string): boolean {
    return value.startsWith(`${ENVELOPE.version}.`);
  }

  /** Lowercase hex HMAC of the value under the current key: what is stored for lookups. */
  lookupHash(value: string, purpose: string): string {
    return hmac(this.current.lookup, purpose, value);
  }

  /** The value's hash under every known key: search `hash = ANY(…)` to find rows written before a rotation. */
  lookupHashes(value: string, purpose: string): string[] {
    return [...this.byId.values()].map((k) => hmac(k.lookup, purpose, value));
  }
}

function derive(key: DataKey): DerivedKey {
  const sub = (info: string) => Buffer.from(hkdfSync('sha256', key.key, Buffer.alloc(0), info, 32));
  return { id: key.id, encryption: sub('field-encryption aes-256-gcm'), lookup: sub('field-lookup hmac-sha256') };
}

function hmac(key: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', key).update(purpose).update('\0').update(value, 'utf8').digest('hex');
}
