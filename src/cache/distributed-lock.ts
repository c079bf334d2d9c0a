import { randomUUID } from 'node:crypto';
import { RedisConnection, withinRedisWait } from './redis';

/**
 * A short mutual-exclusion lease. With Redis it holds across every instance sharing it
 * (`SET NX PX`, released only by its holder); without, it holds inside this process,
 * which is then the only instance there is.
 */
export abstract class DistributedLock {
  /** A lease token when acquired, `undefined` when someone else holds the lock. */
  abstract tryAcquire(name: string, ttlMs: number): Promise<string | undefined>;
  abstract release(name: string, token: string): Promise<void>;
  abstract close(): Promise<void>;
}

export class InProcessLock extends DistributedLock {
  private readonly held = new Map<string, { token: string; until: number }>();

  async tryAcquire(name: string, ttlMs: number): Promise<string | undefined> {
    const now = Date.now();
    const current = this.held.get(name);
    if (current && current.until > now) return undefined;
    const token = randomUUID();
    this.held.set(name, { token, until: now + ttlMs });
    return token;
  }

  async release(name: string, token: string): Promise<void> {
    if (this.held.get(name)?.token === token) this.held.delete(name);
  }

  async close(): Promise<void> {
    this.held.clear();
  }
}

/** Compare-and-delete, so a holder whose lease expired cannot release the next holder's lock. */
const RELEASE_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export class RedisLock extends DistributedLock {
  private readonly redis: RedisConnection;

  constructor(
    url: string,
    private readonly prefix = 'wxlogin:lock:',
  ) {
    super();
    this.redis = new RedisConnection(url, RedisLock.name);
  }

  /** Starts connecting now, so the first lock of a request does not wait for the handshake. */
  async onApplicationBootstrap(): Promise<void> {
    await this.redis.connected().catch(() => undefined);
  }

  async tryAcquire(name: string, ttlMs: number): Promise<string | undefined> {
    const client = await this.redis.connected();
    const token = randomUUID();
    const ok = await withinRedisWait(client.set(this.prefix + name, token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }));
    return ok === 'OK' ? token : undefined;
  }

  async release(name: string, token: string): Promise<void> {
    const client = await this.redis.connected();
    await withinRedisWait(client.eval(RELEASE_SCRIPT, { keys: [this.prefix + name], arguments: [token] }));
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}
