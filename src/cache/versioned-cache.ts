import { LRUCache } from 'lru-cache';
import { RedisConnection, withinRedisWait } from './redis';

/** A cached value with the revision of the record it was read from. */
export interface Versioned<T> {
  revision: number;
  value: T;
}

/**
 * A cache that only ever moves forward: a value is kept only if its revision is newer than the one
 * held. A reader that read an old row and writes it back late (a login racing a logout, two PATCHes)
 * cannot overwrite a newer write; a cache can delay a change, never undo it.
 */
export abstract class VersionedCache {
  abstract get<T>(key: string): Promise<Versioned<T> | undefined>;
  /** Stores `value` unless the cache already holds this key at `revision` or newer. */
  abstract put<T>(key: string, revision: number, value: T, ttlMs: number): Promise<void>;
  abstract close(): Promise<void>;
}

/**
 * Rough bytes a cached entry costs in the heap, counted by walking the value (plain data: records of
 * strings, numbers, booleans) instead of serialising it on every put: strings at two bytes a
 * character, a slot per property, a header per object; what JSON text would have said, within a few percent.
 */
export function entryBytes(value: unknown): number {
  return 160 + valueBytes(value, 0);
}

function valueBytes(value: unknown, depth: number): number {
  if (typeof value === 'string') return 2 * value.length + 4;
  if (typeof value !== 'object' || value === null) return 12;
  // Cached values are shallow records; anything deeper is counted flat rather than walked.
  if (depth > 3) return 256;
  let bytes = 4;
  if (Array.isArray(value)) {
    for (const item of value) bytes += 2 + valueBytes(item, depth + 1);
    return bytes;
  }
  for (const key in value) bytes += 2 * key.length + 6 + valueBytes((value as Record<string, unknown>)[key], depth + 1);
  return bytes;
}

/**
 * In-process, bounded in bytes (not entries): however many users log in, this cache stays under
 * `maxBytes`, the least recently used entries making room.
 */
export class MemoryVersionedCache extends VersionedCache {
  private readonly entries: LRUCache<string, Versioned<unknown>>;

  constructor(maxBytes: number) {
    super();
    this.entries = new LRUCache({ maxSize: maxBytes, ttlAutopurge: false });
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    return this.entries.get(key) as Versioned<T> | undefined;
  }

  async put<T>(key: string, revision: number, value: T, ttlMs: number): Promise<void> {
    const held = this.entries.get(key);
    if (held && held.revision >= revision) return;
    this.entries.set(key, { revision, value }, { ttl: ttlMs, size: entryBytes(value) });
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

/** Compare-and-set in one step on the server: the stored text is `<revision>|<json>`. */
const PUT_SCRIPT = `
local held = redis.call('GET', KEYS[1])
if held then
  local revision = tonumber(string.match(held, '^(%d+)|'))
  if revision and revision >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1`;

/** Shared by every instance through Redis; every call bounded like the rest of the cache. */
export class RedisVersionedCache extends VersionedCache {
  private readonly redis: RedisConnection;

  constructor(
    url: string,
    private readonly prefix = 'wxlogin:v:',
  ) {
    super();
    this.redis = new RedisConnection(url, 'VersionedCache');
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const client = await this.redis.connected();
    const text = await withinRedisWait(client.get(this.prefix + key));
    if (typeof text !== 'string') return undefined;
    const bar = text.indexOf('|');
    const revision = Number(text.slice(0, bar));
    if (bar < 1 || !Number.isSafeInteger(revision)) return undefined;
    return { revision, value: JSON.parse(text.slice(bar + 1)) as T };
  }

  async put<T>(key: string, revision: number, value: T, ttlMs: number): Promise<void> {
    const client = await this.redis.connected();
    await withinRedisWait(client.eval(PUT_SCRIPT, { keys: [this.prefix + key], arguments: [String(revision), JSON.stringify(value), String(Math.ceil(ttlMs))] }));
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}
