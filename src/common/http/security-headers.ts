import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The content security policy of every answer. Only the Swagger UI page needs one in practice (the
 * API answers JSON), and it is written for that page: its scripts and styles are files served
 * from /docs, plus inline `<style>` blocks and `data:` images. No `upgrade-insecure-requests`:
 * it would break the page on a plain-http development server.
 */
const CONTENT_SECURITY_POLICY = {
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
 * Security headers on every answer (@fastify/helmet: `X-Content-Type-Options: nosniff`, the CSP
 * above, frame and referrer policies, ...) and CORS for the configured browser origins only
 * (@fastify/cors); with no origins configured there are no CORS headers at all. Answers written by
 * Node below Fastify (client errors) set nosniff themselves.
 */
export async function registerSecurityHeaders(app: NestFastifyApplication, corsOrigins: string[]): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    // Same-origin isolation headers would keep Swagger UI's "Try it out" from other tools' tabs for no gain here.
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
