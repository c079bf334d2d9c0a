import rateLimit from '@fastify/rate-limit';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError } from '../errors/app-error';
import { createRedisClient, throttledRedisErrorLog } from '../../cache/redis';
import { redisRateLimitStoreClass } from './redis-rate-limit.store';

/** Route config of the rate-limited route(s): `@RouteConfig(LOGIN_RATE_LIMITED)` (limits from LOGIN_RATE_LIMIT). */
export const LOGIN_RATE_LIMITED = { rateLimit: {} };

export const RATE_LIMIT_KEY_PREFIX = 'wxlogin:rl:';
const WINDOW_MS = 60_000;

/**
 * Per-client-IP limit on the routes marked LOGIN_RATE_LIMITED (POST /wechat/login): `max` attempts
 * a minute, counted in Redis when `redisUrl` is set (shared by every instance), in this process
 * otherwise. Over the limit: 429 TOO_MANY_REQUESTS with Retry-After. Checked in `onRequest`, before
 * the body is read. The client IP is Fastify's `request.ip` (TRUST_PROXY decides whether
 * X-Forwarded-For counts); IPv6 clients are counted per /64, as the plugin does by default.
 * Must be registered before the routes are (Nest registers them in `init()`).
 */
export async function registerLoginRateLimit(app: NestFastifyApplication, options: { max: number; redisUrl?: string }): Promise<void> {
  if (options.max <= 0) return;
  let store: ReturnType<typeof redisRateLimitStoreClass> | undefined;
  if (options.redisUrl) {
    const client = createRedisClient(options.redisUrl);
    // Failures surface on the calls; this only keeps a dropped connection from crashing the process.
    client.on('error', throttledRedisErrorLog(new Logger('RateLimit'), 'Redis rate-limit connection'));
    store = redisRateLimitStoreClass(client, RATE_LIMIT_KEY_PREFIX);
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onClose', async () => {
        if (client.isOpen) await client.close().catch(() => client.destroy());
      });
  }
  await app.register(rateLimit, {
    global: false,
    max: options.max,
    timeWindow: WINDOW_MS,
    store,
    // Only Retry-After on a refusal; no X-RateLimit-* headers on every login answer.
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    errorResponseBuilder: (_request, context) => new AppError('TOO_MANY_REQUESTS', `Too many login attempts from this address, retry in ${context.after}`),
  });
}
