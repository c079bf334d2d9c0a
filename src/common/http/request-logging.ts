import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

const REQUEST_ID = /^[\w.:-]{1,64}$/;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** See POLLED_ROUTE. */
    polledByMachines?: boolean;
  }
}

/**
 * Route config (Nest `@RouteConfig`) of a route that machines poll (the health check): its
 * successful answers are logged at debug, not info. A load balancer asking every second would
 * otherwise fill the log with lines that say nothing; a failing answer is still logged.
 */
export const POLLED_ROUTE = { polledByMachines: true };

/** Honour a load balancer's `x-request-id` (when sane), so one request can be followed across services. */
export function requestId(req: Pick<IncomingMessage, 'headers'>): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One JSON line per request: id, method, route, path, status, duration; at info (error for a 5xx,
 * debug for a success of a POLLED_ROUTE). Headers, query strings and bodies stay out, so no token,
 * code or encrypted data can reach the log this way.
 */
export function registerRequestLogging(fastify: FastifyInstance, rootLogger: Logger): void {
  // These lines hold only the fields below, none of them secret: the root logger's wildcard
  // redaction (a scan of every line) is not needed here and would be the costliest part of a line.
  const logger = rootLogger.child({}, { redact: [] });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions;
    const level = status >= 500 ? 'error' : status < 400 && route.config?.polledByMachines === true ? 'debug' : 'info';
    if (logger.isLevelEnabled(level)) {
      const q = request.url.indexOf('?');
      logger[level](
        {
          reqId: request.id,
          method: request.method,
          route: route.url ?? null,
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
