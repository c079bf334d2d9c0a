import type { FieldCipher } from './field-cipher';

/** The associated data of `wechat_user.mobile` envelopes (and the domain of its lookup hash). */
export const MOBILE_PURPOSE = 'wechat_user.mobile';

/** What is stored for a phone number: never the number itself. */
export interface SealedMobile {
  ciphertext: string;
  lookupHash: string;
}

/** Digits only (a leading + dropped): `+86 138-0013-8000` and `+8613800138000` hash alike. */
export function normalizeMobile(number: string): string {
  return number.replace(/\D/g, '');
}

export function sealMobile(cipher: FieldCipher, number: string): SealedMobile {
  return { ciphertext: cipher.seal(number, MOBILE_PURPOSE), lookupHash: cipher.lookupHash(normalizeMobile(number), MOBILE_PURPOSE) };
}

/** For log lines: `13800138000` → `138****8000`; short numbers keep even less. */
export function maskMobile(number: string): string {
  const text = String(number);
  if (text.length >= 7) return `${text.slice(0, 3)}****${text.slice(-4)}`;
  return text.length > 2 ? `${text.slice(0, 1)}****${text.slice(-1)}` : '****';
}
