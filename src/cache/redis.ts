import { Logger } from '@nestjs/common';
import { ServiceUnavailableError } from '../common/errors/app-error';

/** The Redis client package (@keyv/redis and node-redis under it). */
export type RedisPackage = typeof import('@keyv/redis');

/**
 * The Redis client package, loaded on first use: only a deployment with REDIS_URL uses it, and its
 * four hundred modules cost 0.2–0.5 s of every start and about 2.5 MB of heap.
 */
export function redisPackage(): RedisPackage {
  // require, not import(): import() would load the ES module build, a second copy of keyv beside the one cache-manager uses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@keyv/redis') as RedisPackage;
}

/** Longest a request waits on Redis (its client would wait forever while reconnecting). */
export const REDIS_WAIT_MS = 1000;

/**
 * Client options shared by the cache and the lock: fail fast while disconnected (no offline queue)
 * and keep reconnecting in the background, at most every 2 s.
 */
export function redisClientOptions(url: string) {
  return { url, disableOfflineQueue: true, socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(retries * 100, 2000) } };
}

/**
 * A client with those options, typed by what this returns: `ReturnType<typeof createClient>` (the
 * generic's defaults) makes tsc compare two instantiations of the whole command set, a second per build.
 */
export function createRedisClient(url: string) {
  return redisPackage().createClient(redisClientOptions(url));
}

/**
 * A listener for a Redis client's 'error' events (one per reconnect attempt): a line at most every
 * 10 s, and no unheard 'error' event to crash the process.
 */
export function throttledRedisErrorLog(logger: Logger, label: string): (err: Error) => void {
  let lastLogged = 0;
  return (err) => {
    if (Date.now() - lastLogged < 10_000) return;
    lastLogged = Date.now();
    logger.warn(`${label}: ${err?.message ?? err}`);
  };
}

/** `operation`, or SERVICE_UNAVAILABLE if it fails or takes longer than REDIS_WAIT_MS. */
export function withinRedisWait<T>(operation: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ServiceUnavailableError('The cache')), REDIS_WAIT_MS);
  });
  return Promise.race([operation, timeout])
    .catch((err) => {
      throw err instanceof ServiceUnavailableError ? err : new ServiceUnavailableError('The cache', err);
    })
    .finally(() => clearTimeout(timer));
}

/**
 * A raw Redis client for the operations cache-manager has no verb for (compare-and-set scripts,
 * leases): connects on first use, keeps reconnecting by itself, and bounds every wait.
 */
export class RedisConnection {
  readonly client: ReturnType<typeof createRedisClient>;
  private ready?: Promise<unknown>;

  constructor(url: string, label: string) {
    this.client = createRedisClient(url);
    // Errors surface on the commands that fail; this only keeps a dropped connection from crashing.
    this.client.on('error', throttledRedisErrorLog(new Logger(label), `Redis (${label})`));
  }

  /** The connected client, or SERVICE_UNAVAILABLE within REDIS_WAIT_MS. */
  async connected(): Promise<ReturnType<typeof createRedisClient>> {
    this.ready ??= this.client.connect().catch(() => undefined); // the client keeps reconnecting on its own
    if (!this.client.isReady) {
      await withinRedisWait(this.ready);
      if (!this.client.isReady) throw new ServiceUnavailableError('The cache');
    }
    return this.client;
  }

  async close(): Promise<void> {
    if (this.ready) await this.client.close().catch(() => this.client.destroy());
  }
}
