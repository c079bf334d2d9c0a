import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';
import sjson from 'secure-json-parse';
import { AppError, ValidationFailedError } from '../errors/app-error';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** See MalformedBody. */
    keepsMalformedBody?: boolean;
  }
}

/**
 * What a route flagged `keepsMalformedBody` gets as its body instead of a 400 when the body does not
 * parse: a route that authenticates a request partly from its body (WeChat's push) must be able to
 * answer 401 rather than tell an unauthenticated sender what was wrong with it.
 */
export class MalformedBody {
  constructor(readonly error: AppError) {}
}

/** A body that does not parse: 400 (415 when not JSON as this API reads it), or a MalformedBody for a route that must see it (see there). */
function refuse(request: FastifyRequest, error: AppError, done: (err: Error | null, body?: unknown) => void): void {
  if (request.routeOptions?.config?.keepsMalformedBody === true) done(null, new MalformedBody(error));
  else done(error, undefined);
}

/** Deeper than any request of this API; deeper bodies only exist to exhaust the stack of validators. */
export const MAX_BODY_DEPTH = 16;
/**
 * More keys (and array items), counted over every level, than any request of this API has; a body
 * of thousands of unknown keys would otherwise cost the validator milliseconds of CPU per request
 * and an answer listing each one.
 */
export const MAX_BODY_KEYS = 256;

/**
 * The only body parser: JSON, strictly. Invalid UTF-8 (which a plain decode would silently turn
 * into U+FFFD), prototype poisoning, absurd nesting and too many keys are refused as
 * VALIDATION_FAILED before any handler, pipe or validator sees the body.
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      return refuse(request, new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${JSON.stringify(encoding.slice(0, 32))} is not accepted: send the JSON uncompressed`), done);
    }
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return refuse(request, new AppError('UNSUPPORTED_MEDIA_TYPE', `charset ${JSON.stringify(charset.slice(0, 32))} is not accepted: JSON bodies are UTF-8`), done);
    }
    // wx.request sends `content-type: application/json` even without data: an empty body is no body
    // (a route that needs one then fails validation, naming its fields).
    if (body.length === 0) return done(null, undefined);
    if (!isUtf8(body)) return refuse(request, new ValidationFailedError('Malformed JSON body: not valid UTF-8'), done);
    let parsed: unknown;
    try {
      parsed = sjson.parse(body.toString('utf8'), null, { protoAction: 'error', constructorAction: 'error' });
    } catch (err) {
      const poisoned = /prototype/i.test((err as Error).message);
      return refuse(request, new ValidationFailedError(poisoned ? 'Malformed JSON body: forbidden __proto__ or constructor.prototype key' : 'Malformed JSON body'), done);
    }
    const problem = shapeProblem(parsed);
    if (problem) return refuse(request, new ValidationFailedError(`Malformed JSON body: ${problem}`), done);
    done(null, parsed);
  });
}

/** The charset parameter of a content type, lower-cased; undefined when it names none (the usual case, checked cheaply). */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType.length <= 'application/json'.length) return undefined;
  return /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType)?.[1]?.toLowerCase();
}

/** Thrown inside the walk to stop at the first limit crossed. */
class ShapeLimit {
  constructor(readonly problem: string) {}
}

/**
 * One walk over the parsed body, stopping as soon as a limit is crossed: nesting deeper than
 * MAX_BODY_DEPTH (naming the top-level field holding it) or more than MAX_BODY_KEYS keys in all.
 */
function shapeProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  let keys = 0;
  const visit = (value: object, depthLeft: number, field: string): void => {
    if (depthLeft === 0) throw new ShapeLimit(`${field} is nested deeper than ${MAX_BODY_DEPTH} levels`);
    const children = Array.isArray(value) ? value : Object.values(value);
    keys += children.length;
    if (keys > MAX_BODY_KEYS) throw new ShapeLimit(`more than ${MAX_BODY_KEYS} keys in all`);
    for (const child of children) if (typeof child === 'object' && child !== null) visit(child, depthLeft - 1, field);
  };
  try {
    if (Array.isArray(body)) visit(body, MAX_BODY_DEPTH, 'body');
    else {
      const entries = Object.entries(body);
      keys = entries.length;
      if (keys > MAX_BODY_KEYS) return `more than ${MAX_BODY_KEYS} keys in all`;
      for (const [field, value] of entries) if (typeof value === 'object' && value !== null) visit(value, MAX_BODY_DEPTH - 1, field);
    }
  } catch (err) {
    if (err instanceof ShapeLimit) return err.problem;
    throw err;
  }
  return undefined;
}
