/**
 * `text` parsed, when it holds a JSON object (what WeChat answers and encrypts, and what rawData
 * must be); otherwise why not, to finish a message such as `body is not JSON`.
 */
export function parseJsonObject(text: string): { object: Record<string, unknown> } | { problem: 'is not JSON' | 'is not a JSON object' } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { problem: 'is not a JSON object' };
  return { object: parsed as Record<string, unknown> };
}
