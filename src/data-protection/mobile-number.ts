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

/** A country code written apart from the number: `+86 138…`, `+1-555…`. */
const SEPARATED_COUNTRY_CODE = /^(\+\d{1,3})[\s-]+(.*)$/s;
/** What maskMobile makes: masking it again keeps it (a masked number logged under a phone key). */
const MASKED = /^(\+\d{1,3} |\+)?\d{0,3}\*{4}\d{0,4}$/;

/**
 * For log lines: enough to tell numbers apart, never the number. 11 digits or more show the first 3
 * and the last 4 (`13800138000` → `138****8000`); shorter ones a quarter of their digits (rounded
 * down) at each end, so at least half stays hidden (`6123456` → `6****6`, `28123456` → `28****56`,
 * 3 digits or fewer → `****`). A country code written apart is kept and the rule applies to the
 * rest (`+852 61234567` → `+852 61****67`); in `+8613800138000` the `+` takes one of the three
 * leading places (`+86****8000`). Spaces and dashes inside the number are dropped.
 */
export function maskMobile(number: string): string {
  const text = String(number).trim();
  if (MASKED.test(text)) return text;
  const separated = SEPARATED_COUNTRY_CODE.exec(text);
  const plus = !separated && text.startsWith('+');
  const prefix = separated ? `${separated[1]} ` : plus ? '+' : '';
  const digits = (separated ? separated[2] : text).replace(/\D/g, '');
  const [head, tail] = digits.length >= 11 ? [plus ? 2 : 3, 4] : [Math.floor(digits.length / 4), Math.floor(digits.length / 4)];
  return tail === 0 ? `${prefix}****` : `${prefix}${digits.slice(0, head)}****${digits.slice(-tail)}`;
}
