import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../errors/error-response';

/**
 * Fastify's router answers a few malformed URLs itself, before any route or Nest filter runs:
 * bad percent-encoding, and a path parameter longer than `maxParamLength` (no id of ours is that
 * long). Same JSON shape and codes as every other error.
 */
export function sendFrameworkError(error: { code?: string; message?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  const body: ErrorBody =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? { statusCode: 404, code: 'NOT_FOUND', message: 'Route not found' }
      : { statusCode: 400, code: 'VALIDATION_FAILED', message: 'Malformed URL' };
  void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
}
