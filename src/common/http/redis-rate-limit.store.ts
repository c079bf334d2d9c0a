import { ServiceUnavailableError } from '../errors/app-error';
import { withinRedisWait } from '../../cache/redis';

/** What the store needs of a node-redis client. */
interface RedisClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}
type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

/** Count and window start in one step: INCR, and PEXPIRE when the count starts (atomic, so no counter is left without expiry). */
const INCR_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}`;

const READ_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {tonumber(current), ttl}`;

/**
 * A store for @fastify/rate-limit (its documented `store` option) over the project's node-redis
 * client, so every instance sharing REDIS_URL shares the counts. Fixed windows per key, as the
 * plugin's own stores. Every call is bounded by the usual Redis wait: an unreachable Redis makes
 * the limited route answer 503 rather than hang (fail closed; the login needs Redis anyway).
 */
export class RedisRateLimitStore {
  constructor(
    private readonly client: RedisClient,
    private readonly connected: () => Promise<void>,
    private readonly prefix: string,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number): void {
    this.run(INCR_SCRIPT, key, [String(timeWindow)], callback);
  }

  read(key: string, callback: Callback): void {
    this.run(READ_SCRIPT, key, [], callback);
  }

  /** The store of one limited route: its own key space under the prefix (`…:wechat:login:`). */
  child(routeOptions: { routeInfo?: { url?: string }; url?: string }): RedisRateLimitStore {
    // The plugin passes the merged limits with the route under `routeInfo` (its typings say the route itself).
    const route = (routeOptions.routeInfo?.url ?? routeOptions.url ?? '').replace(/^\/+/, '').replace(/\//g, ':');
    return new RedisRateLimitStore(this.client, this.connected, route ? `${this.prefix}${route}:` : this.prefix);
  }

  private run(script: string, key: string, args: string[], callback: Callback): void {
    withinRedisWait(this.connected().then(() => this.client.eval(script, { keys: [this.prefix + key], arguments: args }))).then(
      (reply) => {
        const [current, ttl] = reply as [number, number];
        callback(null, { current: Number(current), ttl: Number(ttl) });
      },
      (err: unknown) => callback(err instanceof Error ? err : new ServiceUnavailableError('The cache', err)),
    );
  }
}

/**
 * The store class @fastify/rate-limit instantiates (it calls `new store(options)`), bound to one
 * node-redis client that connects on first use and keeps reconnecting on its own.
 */
export function redisRateLimitStoreClass(client: RedisClient, prefix: string): new (options: unknown) => RedisRateLimitStore {
  let ready: Promise<unknown> | undefined;
  const connected = async (): Promise<void> => {
    ready ??= client.connect().catch(() => undefined);
    if (client.isReady) return;
    await ready;
    if (!client.isReady) throw new ServiceUnavailableError('The cache');
  };
  return class extends RedisRateLimitStore {
    constructor() {
      super(client, connected, prefix);
    }
  };
}
