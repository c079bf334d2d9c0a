import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import { isDocsRoute } from '../swagger/setup-swagger';
import { hostProblem, refuseBadHost, takeOverNodeAnswers } from './client-error-handler';
import { prependRouteHook } from './route-hooks';

/**
 * The content security policy of the docs page, written for Swagger UI: its scripts and styles
 * are files served from /docs, plus inline `<style>` blocks and `data:` images. No
 * `upgrade-insecure-requests`: it would break the page on a plain-http development server.
 */
const DOCS_CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
};

/** Helmet's headers for the docs, built once (helmet's own middleware, given the policy above). */
const docsHeaders = helmet({
  contentSecurityPolicy: DOCS_CONTENT_SECURITY_POLICY,
  // Same-origin isolation would only get in the way of the docs page; it embeds nothing.
  crossOriginEmbedderPolicy: false,
});

function setDocsHeaders(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  docsHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined));
}

/**
 * `X-Content-Type-Options: nosniff` on every answer; helmet's full set (the CSP above, frame,
 * referrer and cross-origin policies) on the docs, the only HTML the service serves; CORS for the
 * configured browser origins only (none configured: no CORS headers at all).
 *
 * Helmet is a hook of the docs routes alone. As a plugin (@fastify/helmet) it adds two hooks to
 * every request of every route, one of them async, even when scoped to some routes, and rebuilds its
 * middleware on each request of those; headers that mean nothing on a JSON answer are not worth
 * that on every request. Answers written below Fastify (client errors, an unsupported Expect) set
 * nosniff themselves; a missing Host, which Node would refuse bare, or a repeated one is refused here.
 * Must run before the routes are registered.
 */
export async function registerSecurityHeaders(app: NestFastifyApplication, corsOrigins: string[]): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  takeOverNodeAnswers(fastify.server);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-content-type-options', 'nosniff');
    // Node's own check is off (takeOverNodeAnswers): the refusal is made here, in our shape.
    const problem = hostProblem(request);
    if (problem) return refuseBadHost(reply, problem);
    done();
  });
  fastify.addHook('onRoute', (route) => {
    if (isDocsRoute(route.url ?? '')) prependRouteHook(route, 'onRequest', setDocsHeaders);
  });
  if (corsOrigins.length) await registerCors(app, corsOrigins);
}

/**
 * CORS for the listed origins only. Anything else gets no CORS at all, so the route table answers
 * as it does without CORS_ORIGINS: a preflight from another origin gets no `Access-Control-*`
 * header (only the JSON 405 or 404), and an OPTIONS request that is not a preflight (no Origin, or
 * no Access-Control-Request-Method) gets that JSON answer too rather than @fastify/cors's
 * `400 text/plain`. The delegator only picks among option sets built here once.
 */
async function registerCors(app: NestFastifyApplication, corsOrigins: string[]): Promise<void> {
  const common: FastifyCorsOptions = {
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    // Beyond the CORS-safelisted ones, what a browser client needs to read: when to retry a 429, an avatar's tag.
    exposedHeaders: ['Retry-After', 'ETag'],
    // Bearer tokens, not cookies.
    credentials: false,
    maxAge: 600,
  };
  const listed = new Map(
    corsOrigins.map((origin) => [
      origin,
      {
        preflight: { ...common, origin },
        // An actual OPTIONS request from a listed origin: allow-origin on the route table's answer.
        notPreflight: { ...common, origin, preflight: false },
      },
    ]),
  );
  const noCors: FastifyCorsOptions = { origin: false };
  await app.register(cors, {
    delegator: (request, callback) => {
      const origin = request.headers.origin;
      const options = origin === undefined ? undefined : listed.get(origin);
      if (options === undefined) return callback(null, noCors);
      const notPreflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] === undefined;
      callback(null, notPreflight ? options.notPreflight : options.preflight);
    },
  });
}
