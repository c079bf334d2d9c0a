import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { isDocsRoute } from '../swagger/setup-swagger';

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

/**
 * `X-Content-Type-Options: nosniff` on every answer; helmet's full set (the CSP above, frame,
 * referrer and cross-origin policies) on the docs, the only HTML the service serves; CORS for the
 * configured browser origins only (none configured: no CORS headers at all).
 *
 * Helmet is scoped to the docs routes because @fastify/helmet rebuilds its middleware on every
 * request: on every route it cost ~35 µs of CPU per request (more than a bare Fastify request),
 * for headers that mean nothing on a JSON answer. Answers written below Fastify (client errors)
 * set nosniff themselves. Must run before the routes are registered.
 */
export async function registerSecurityHeaders(app: NestFastifyApplication, corsOrigins: string[]): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.header('x-content-type-options', 'nosniff');
    done();
  });
  // Route-level helmet options (set before helmet's own onRoute hook reads them).
  fastify.addHook('onRoute', (route) => {
    if (isDocsRoute(route.url ?? '')) (route as { helmet?: object }).helmet = {};
  });
  await app.register(helmet, {
    global: false,
    contentSecurityPolicy: DOCS_CONTENT_SECURITY_POLICY,
    // Same-origin isolation would only get in the way of the docs page; it embeds nothing.
    crossOriginEmbedderPolicy: false,
  });
  if (corsOrigins.length) {
    await app.register(cors, {
      origin: corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      // Bearer tokens, not cookies.
      credentials: false,
      maxAge: 600,
    });
  }
}
