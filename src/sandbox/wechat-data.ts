/**
 * What WeChat's mini program side holds and how WeChat makes it: ids, session keys, trace ids, the
 * rawData signature, encryptedData, phone number records. Used by the simulator and by tests that
 * craft data as WeChat would.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

export interface PhoneInfo {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

export interface EncryptedPayload {
  encryptedData: string;
  iv: string;
}

const DEFAULT_PHONE = '13800138000';
const DEFAULT_COUNTRY_CODE = '86';

/** Lowercase hex HMAC-SHA256; checksession's signature is this of '' keyed by the session_key text. */
export function hmacSha256Hex(key: string, message: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('hex');
}

/** Lowercase hex SHA-1; the rawData signature is sha1(rawData + session_key). */
export function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** AES-128-CBC, PKCS#7, key = base64-decoded session_key: WeChat's encryptedData scheme. */
export function encryptWithSessionKey(sessionKey: string, plaintext: string): EncryptedPayload {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  const encrypted = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { encryptedData: encrypted.toString('base64'), iv: iv.toString('base64') };
}

/** Parses '+1 5551234567', '+86-13800138000', '+8613800138000' or a bare national number. */
export function parsePhoneNumber(input?: string): PhoneInfo {
  const given = input?.trim();
  if (!given) {
    return { phoneNumber: DEFAULT_PHONE, purePhoneNumber: DEFAULT_PHONE, countryCode: DEFAULT_COUNTRY_CODE };
  }
  const separated = /^\+(\d{1,4})[\s-]+(.+)$/.exec(given);
  if (separated) return phoneInfo(separated[1], digitsOf(separated[2]), given);
  if (given.startsWith('+')) {
    const digits = digitsOf(given);
    const cc = guessCountryCode(digits);
    return phoneInfo(cc, digits.slice(cc.length), given);
  }
  return { phoneNumber: given, purePhoneNumber: digitsOf(given), countryCode: DEFAULT_COUNTRY_CODE };
}

function phoneInfo(countryCode: string, purePhoneNumber: string, given: string): PhoneInfo {
  // WeChat gives Chinese numbers without the area code, foreign ones with it.
  const phoneNumber = countryCode === DEFAULT_COUNTRY_CODE ? purePhoneNumber : given;
  return { phoneNumber, purePhoneNumber, countryCode };
}

function guessCountryCode(digits: string): string {
  if (digits.startsWith('86')) return '86';
  if (digits.startsWith('1') || digits.startsWith('7')) return digits[0];
  return digits.slice(0, 2);
}

function digitsOf(text: string): string {
  return text.replace(/\D/g, '');
}

/** Random [A-Za-z0-9] string, the shape of wx.login codes. */
export function randomAlnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/** 'o' + 27 base64url chars, like real openids. */
export function newOpenId(): string {
  return 'o' + randomBytes(21).toString('base64url').slice(0, 27);
}

/** WeChat's session_key: 16 random bytes, base64 (24 chars). */
export function newSessionKey(): string {
  return randomBytes(16).toString('base64');
}

/** WeChat's trace ids look like `690b03d2-301f6111-35ffbd44`. */
export function newTraceId(): string {
  return [4, 4, 4].map((n) => randomBytes(n).toString('hex')).join('-');
}
