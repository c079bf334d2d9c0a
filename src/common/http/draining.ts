import type { FastifyInstance } from 'fastify';
import { ERROR_STATUS } from '../errors/app-error';

const SHUTTING_DOWN = { statusCode: ERROR_STATUS.SERVICE_UNAVAILABLE, code: 'SERVICE_UNAVAILABLE', message: 'The service is shutting down, try again' } as const;

/**
 * Once the server starts closing, a request that still arrives (on a kept-alive connection)
 * gets 503 SERVICE_UNAVAILABLE in the usual JSON shape, with `Connection: close`, so the client
 * retries elsewhere. (Fastify's own `return503OnClosing` answer has another shape.)
 */
export function registerDrainingAnswer(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    void reply.code(SHUTTING_DOWN.statusCode).header('connection', 'close').header('content-type', 'application/json; charset=utf-8').send(SHUTTING_DOWN);
  });
}
