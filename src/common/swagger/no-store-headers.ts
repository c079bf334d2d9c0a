import type { HeadersObject } from '@nestjs/swagger';

/** The response header of an answer that carries a token or the owner's data: `@Header('cache-control', 'no-store')` sends it. */
export const NO_STORE_HEADERS: HeadersObject = {
  'Cache-Control': { description: 'No cache may keep this answer: it carries a token or personal data', schema: { type: 'string', enum: ['no-store'] } },
};
