import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Honour a load balancer's `x-request-id` (when sane), so one request can be followed across services. */
export function requestId(req: Pick<IncomingMessage, 'headers'>): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One JSON line per request: id, method, route, path, status, duration. Headers, query strings
 * and bodies stay out, so no token, code or encrypted data can reach the log this way.
 */
export function registerRequestLogging(fastify: FastifyInstance, rootLogger: Logger): void {
  // These lines hold only the fields below, none of them secret: the root logger's wildcard
  // redaction (a scan of every line) is not needed here and would be the costliest part of a line.
  const logger = rootLogger.child({}, { redact: [] });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : 'info';
    if (logger.isLevelEnabled(level)) {
      const q = request.url.indexOf('?');
      logger[level](
        {
          reqId: request.id,
          method: request.method,
          route: request.routeOptions.url ?? null,
          path: q === -1 ? request.url : request.url.slice(0, q),
          status,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request completed',
      );
    }
    done();
  });
}
