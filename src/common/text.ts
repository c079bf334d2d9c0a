/**
 * Text as PostgreSQL stores it: lengths of varchar(n) count code points (not UTF-16 units), NUL
 * cannot be stored at all, and a lone surrogate has no UTF-8 form (a driver would silently turn it
 * into U+FFFD). Everything that reaches a text column is checked or cut with these first.
 */

/** Control characters (C0, DEL, C1): never part of a name or a place. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Walks at most `max` code points: where they end (a UTF-16 index) and how many there were. */
function scan(text: string, max: number): { end: number; count: number } {
  let count = 0;
  let i = 0;
  while (i < text.length && count < max) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    i += pair ? 2 : 1;
    count++;
  }
  return { end: i, count };
}

export function codePointLength(text: string): number {
  return scan(text, Infinity).count;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * At most `max` code points, never cutting a character in half: not a surrogate pair, and not a
 * character made of several code points either (an emoji joined with ZWJ, a flag, a letter with a
 * combining accent), which is dropped whole. A single character longer than `max` is cut by code point.
 */
export function truncateCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  const { end } = scan(text, max);
  if (end >= text.length) return text;
  // The character `end` falls in starts at `end` (a clean cut) or before it (then it goes whole).
  const start = graphemes.segment(text).containing(end)?.index ?? end;
  return text.slice(0, start > 0 ? start : end);
}

/** Why a text cannot be stored in a column of `max` code points, or undefined when it can. */
export function textProblem(text: string, max: number, options: { controlCharacters?: boolean } = {}): string | undefined {
  if (!text.isWellFormed()) return 'contains a lone surrogate (not valid Unicode)';
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (!options.controlCharacters && CONTROL.test(text)) return 'contains control characters';
  if (codePointLength(text) > max) return `must be at most ${max} characters`;
  return undefined;
}
