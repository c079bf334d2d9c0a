import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { AppError, ValidationFailedError } from '../common/errors/app-error';
import { MalformedBody } from '../common/http/json-body-parser';
import { prependRouteHook } from '../common/http/route-hooks';
import type { PushReceiver } from './push-receiver';
import { parsePushXml, PushXmlError } from './push-xml';
import { PushSignatureMismatchError } from './push.errors';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** See XML_BODY_ROUTE. */
    acceptsWechatXml?: boolean;
  }
}

/**
 * Route config (Nest `@RouteConfig`) of the routes that take WeChat's pushes: XML bodies, and a body
 * that does not parse handed to the verifier (MalformedBody), which answers 401 unless the push is
 * authentic.
 */
export const XML_BODY_ROUTE = { acceptsWechatXml: true, keepsMalformedBody: true };

const PUSH_BODY_TYPES = new Set(['text/xml', 'application/xml', 'application/json']);

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
    const refuse = (message: string) => done(null, new MalformedBody(new ValidationFailedError(message)));
    if (body.length === 0) return refuse('Body cannot be empty');
    if (!isUtf8(body)) return refuse('Malformed XML body: not valid UTF-8');
    try {
      const parsed: XmlBody = { format: 'xml', fields: parsePushXml(body.toString('utf8')) };
      done(null, parsed);
    } catch (err) {
      refuse(err instanceof PushXmlError ? `Malformed XML body: ${err.message}` : 'Malformed XML body');
    }
  });
}

/**
 * Checks a push's query (timestamp, and `signature` when present) before its body is read, so an
 * unauthenticated push is 401 whatever it sends, and its body is never parsed. Without `signature`
 * only safe mode's msg_signature is left, which covers the body's Encrypt: then a body that cannot
 * hold one (another content type, over the size limit) is 401 too; the rest is checked once parsed.
 * Must be registered before the routes are (Nest registers them in `init()`).
 */
export function registerPushAuthentication(fastify: FastifyInstance, receiver: PushReceiver): void {
  const checkQuery = (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void): void => {
    try {
      const { appId } = request.params as { appId?: string };
      const { bySignature } = receiver.checkQuery(appId, request.query as Record<string, unknown>);
      if (!bySignature && !mayHoldEncrypt(request)) throw new PushSignatureMismatchError('Push cannot be authenticated: its body cannot hold Encrypt');
      done();
    } catch (err) {
      done(err as Error);
    }
  };
  fastify.addHook('onRoute', (route) => {
    if (route.config?.acceptsWechatXml === true) prependRouteHook(route, 'onRequest', checkQuery);
  });
}

function mayHoldEncrypt(request: FastifyRequest): boolean {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const declared = Number(request.headers['content-length']);
  return PUSH_BODY_TYPES.has(type) && !(declared > request.routeOptions.bodyLimit);
}
