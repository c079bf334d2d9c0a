import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import type { ErrorCode } from '../errors/app-error';
import { errorResponse } from './api-error-responses.decorator';

/** The methods whose requests Fastify reads a body for (the others ignore one). */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/** What Fastify answers for every body, before any route code runs (its body limit and content-type parsers). */
const BODY_ERRORS: [number, ErrorCode][] = [
  [413, 'PAYLOAD_TOO_LARGE'],
  [415, 'UNSUPPORTED_MEDIA_TYPE'],
];

/**
 * Documents 413 and 415 on every operation that takes a body: the body limit and the content-type
 * parsers are the whole app's, so they are documented once here rather than on each route. A
 * route that documents its own (an upload with its own limit) keeps them.
 */
export function documentBodyErrors(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, OperationObject][]) {
      if (!BODY_METHODS.has(method)) continue;
      for (const [status, code] of BODY_ERRORS) operation.responses[status] ??= errorResponse(status, [code]);
    }
  }
}
