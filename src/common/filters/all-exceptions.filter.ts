import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS } from '../errors/app-error';
import { toErrorBody } from '../errors/error-response';
import type { RouteMethods } from '../http/route-methods';

/** The one place failures become HTTP answers: Nest handlers, guards, pipes and Fastify's own errors. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  /** `routeMethods` turns "no route" into 405 when the path is known with other methods only. */
  constructor(private readonly routeMethods?: RouteMethods) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest | undefined>();
    const reply = ctx.getResponse<FastifyReply>();
    if (request?.is404 && this.routeMethods && !reply.sent) {
      const allowed = this.routeMethods.allowed(request.url);
      // A route of this very method found nothing (a docs asset that does not exist): 404, not 405.
      if (allowed.length && !allowed.includes(request.method)) {
        const body = { statusCode: ERROR_STATUS.METHOD_NOT_ALLOWED, code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed here; use ${allowed.join(', ')}` };
        void reply.status(body.statusCode).header('allow', allowed.join(', ')).header('content-type', 'application/json; charset=utf-8').send(body);
        return;
      }
    }
    const { body, internal } = toErrorBody(exception);
    if (internal) {
      const err = exception as Error;
      // Only the error's class, code and message: never request bodies or headers.
      this.logger.error(
        { err: { type: err?.name, code: (err as { code?: unknown } | undefined)?.code, message: err?.message }, route: request?.routeOptions?.url, code: body.code },
        `request failed: ${body.code}`,
      );
    }
    if (reply.sent) return;
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
