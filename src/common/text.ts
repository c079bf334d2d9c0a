/**
 * Text as PostgreSQL stores it: lengths of varchar(n) count code points (not UTF-16 units), NUL
 * cannot be stored at all, and a lone surrogate has no UTF-8 form (a driver would silently turn it
 * into U+FFFD). Everything that reaches a text column is checked or cut with these first.
 */

/** Control characters (C0, DEL, C1): never part of a name or a place. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The first `max` code points: never cuts a character in half. */
export function truncateCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (n === max) return text.slice(0, i);
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return text;
}

/** Why a text cannot be stored in a column of `max` code points, or undefined when it can. */
export function textProblem(text: string, max: number, options: { controlCharacters?: boolean } = {}): string | undefined {
  if (!text.isWellFormed()) return 'contains a lone surrogate (not valid Unicode)';
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (!options.controlCharacters && CONTROL.test(text)) return 'contains control characters';
  if (codePointLength(text) > max) return `must be at most ${max} characters`;
  return undefined;
}
