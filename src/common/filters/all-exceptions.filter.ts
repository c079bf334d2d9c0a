import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from '../errors/error-response';

/** The one place failures become HTTP answers: Nest handlers, guards, pipes and Fastify's own errors. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest | undefined>();
    const reply = ctx.getResponse<FastifyReply>();
    const { body, internal } = toErrorBody(exception);
    if (internal) {
      const err = exception as Error;
      // Only the error's class, code and message: never request bodies or headers.
      this.logger.error(
        { err: { type: err?.name, code: (err as any)?.code, message: err?.message }, route: request?.routeOptions?.url, code: body.code },
        `request failed: ${body.code}`,
      );
    }
    if (reply.sent) return;
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
