import type { FastifyInstance } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { AppError, ValidationFailedError } from '../common/errors/app-error';
import { parsePushXml, PushXmlError } from './push-xml';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** See XML_BODY_ROUTE. */
    acceptsWechatXml?: boolean;
  }
}

/** Route config (Nest `@RouteConfig`) of the routes that take WeChat's XML bodies. */
export const XML_BODY_ROUTE = { acceptsWechatXml: true };

/** A parsed XML body, told apart from a JSON one so safe-mode replies keep the format. */
export interface XmlBody {
  readonly format: 'xml';
  readonly fields: Record<string, unknown>;
}

export function isXmlBody(body: unknown): body is XmlBody {
  return typeof body === 'object' && body !== null && (body as XmlBody).format === 'xml' && typeof (body as XmlBody).fields === 'object';
}

/**
 * `text/xml` and `application/xml` bodies, for the WeChat push route only: every other route
 * keeps answering 415 to them, as the JSON-only API promises. Same 64 KiB bound as JSON (the
 * server-wide body limit applies before this parser runs).
 */
export function registerPushXmlBodyParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (request.routeOptions?.config?.acceptsWechatXml !== true) {
      return done(new AppError('UNSUPPORTED_MEDIA_TYPE', `Unsupported Media Type: ${request.headers['content-type'] ?? ''}`), undefined);
    }
    if (body.length === 0) return done(new ValidationFailedError('Body cannot be empty'), undefined);
    if (!isUtf8(body)) return done(new ValidationFailedError('Malformed XML body: not valid UTF-8'), undefined);
    try {
      const parsed: XmlBody = { format: 'xml', fields: parsePushXml(body.toString('utf8')) };
      done(null, parsed);
    } catch (err) {
      if (err instanceof PushXmlError) return done(new ValidationFailedError(`Malformed XML body: ${err.message}`), undefined);
      done(new ValidationFailedError('Malformed XML body'), undefined);
    }
  });
}
