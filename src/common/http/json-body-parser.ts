import type { FastifyInstance } from 'fastify';
import { isUtf8 } from 'node:buffer';
import sjson from 'secure-json-parse';
import { ValidationFailedError } from '../errors/app-error';

/** Deeper than any request of this API; deeper bodies only exist to exhaust the stack of validators. */
export const MAX_BODY_DEPTH = 16;

/**
 * The only body parser: JSON, strictly. Invalid UTF-8 (which a plain decode would silently turn
 * into U+FFFD), prototype poisoning and absurd nesting are refused as VALIDATION_FAILED before any
 * handler, pipe or validator sees the body.
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    if (body.length === 0) return done(new ValidationFailedError('Body cannot be empty when content-type is application/json'), undefined);
    if (!isUtf8(body)) return done(new ValidationFailedError('Malformed JSON body: not valid UTF-8'), undefined);
    let parsed: unknown;
    try {
      parsed = sjson.parse(body.toString('utf8'), null, { protoAction: 'error', constructorAction: 'error' });
    } catch (err) {
      const poisoned = /prototype/i.test((err as Error).message);
      return done(new ValidationFailedError(poisoned ? 'Malformed JSON body: forbidden __proto__ or constructor.prototype key' : 'Malformed JSON body'), undefined);
    }
    const tooDeep = tooDeepField(parsed);
    if (tooDeep !== undefined) return done(new ValidationFailedError(`Malformed JSON body: ${tooDeep} is nested deeper than ${MAX_BODY_DEPTH} levels`), undefined);
    done(null, parsed);
  });
}

/** The top-level field (or "body") holding nesting deeper than the limit, if any. */
function tooDeepField(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  if (Array.isArray(body)) return depthExceeds(body, MAX_BODY_DEPTH) ? 'body' : undefined;
  return Object.entries(body).find(([, value]) => depthExceeds(value, MAX_BODY_DEPTH - 1))?.[0];
}

function depthExceeds(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max === 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (depthExceeds(child, max - 1)) return true;
  }
  return false;
}
