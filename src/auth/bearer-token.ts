const SCHEME = 'bearer';
const SPACE = 0x20;
const TAB = 0x09;

/**
 * The token of `Authorization: Bearer <token>`, or null: the scheme in any case (RFC 7235), one or
 * more spaces, one token and nothing after it. passport-jwt's own `fromAuthHeaderAsBearerToken` takes
 * the first word after the scheme and ignores whatever follows. Whitespace around the whole value is
 * not part of it (RFC 9110 §5.5; Node's parser has already removed it from a real request).
 * Every guarded request runs this: no regex, no allocation but the token itself.
 */
export function bearerToken(request: { headers: Record<string, unknown> }): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  let begin = 0;
  let end = header.length;
  while (begin < end && isWhitespace(header.charCodeAt(begin))) begin++;
  while (end > begin && isWhitespace(header.charCodeAt(end - 1))) end--;
  if (end - begin <= SCHEME.length + 1) return null;
  // `| 0x20` lowercases an ASCII letter, and only `B` and `b` (and so on) map onto the scheme's letters.
  for (let i = 0; i < SCHEME.length; i++) if ((header.charCodeAt(begin + i) | 0x20) !== SCHEME.charCodeAt(i)) return null;
  let start = begin + SCHEME.length;
  if (header.charCodeAt(start) !== SPACE) return null;
  while (header.charCodeAt(start) === SPACE) start++;
  const space = header.indexOf(' ', start);
  const tab = header.indexOf('\t', start);
  if ((space !== -1 && space < end) || (tab !== -1 && tab < end)) return null;
  return header.slice(start, end);
}

function isWhitespace(code: number): boolean {
  return code === SPACE || code === TAB;
}
