import { HttpException } from '@nestjs/common';
import { AppError, ERROR_STATUS, type ErrorCode } from './app-error';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
}

const body = (code: ErrorCode, message: string): ErrorBody => ({ statusCode: ERROR_STATUS[code], code, message });

/**
 * Fastify's own failures before a route runs, by their error code. (Bad JSON never gets here as a
 * Fastify error: our body parser raises VALIDATION_FAILED itself, see common/http/json-body-parser.ts.)
 */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  // A path parameter longer than any id of ours: no such resource.
  FST_ERR_MAX_PARAM_LENGTH: 'NOT_FOUND',
};

const HTTP_STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  431: 'HEADERS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * Errors of the pg driver / pool that mean "the database cannot answer right now": unreachable, shut
 * down, a statement cancelled by statement_timeout (57014), a serialization failure or deadlock
 * (40001, 40P01), out of resources (53xxx), a sequence at its end (2200H).
 */
const DB_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  '55000',
  '3D000',
  '57P04',
  '57014',
  '40001',
  '40P01',
  '2200H',
]);

/**
 * Data the database refused as a value: too long (22001), not valid in the encoding, NUL included
 * (22021), an untranslatable character (22P05), out of range (22003). Input is validated before it is
 * sent; this is the safety net that keeps such input a 400.
 */
const DB_BAD_DATA = new Set(['22001', '22021', '22P05', '22003']);

/** An error as the pg driver and TypeORM shape it: a SQLSTATE `code`, a `severity`, maybe a wrapped cause. */
interface DriverErrorLike {
  code?: unknown;
  severity?: unknown;
  message?: unknown;
  driverError?: DriverErrorLike;
  cause?: DriverErrorLike;
}

/** The error and what it wraps, at most four levels deep. */
function* errorChain(err: unknown): Generator<DriverErrorLike> {
  let e = err as DriverErrorLike | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; e = e.driverError ?? e.cause, depth++) yield e;
}

function databaseCode(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string') return e.code;
  }
  return undefined;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  for (const e of errorChain(err)) {
    if ((typeof e.code === 'string' && DB_UNAVAILABLE.has(e.code)) || (typeof e.code === 'string' && e.code.startsWith('53') && typeof e.severity === 'string')) return true;
    const msg = String(e.message ?? '');
    if (
      /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end|^Query read timeout$/i.test(msg)
    )
      return true;
  }
  return false;
}

/**
 * Maps any failure to the contract's `{ statusCode, code, message }`.
 * `internal` is true for failures the client did not cause (they get a generic message and are logged).
 */
export function toErrorBody(err: unknown): { body: ErrorBody; internal: boolean } {
  if (err instanceof AppError) return { body: body(err.code, err.message), internal: err.status >= 500 };

  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = HTTP_STATUS_CODES[status];
    if (code === 'NOT_FOUND') return { body: body(code, 'Route not found'), internal: false };
    if (code) return { body: body(code, err.message), internal: false };
    return { body: body(status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_FAILED', err.message), internal: status >= 500 };
  }

  const e = err as { code?: string; statusCode?: number; message?: string } | undefined;
  const fastifyCode = e?.code ? FASTIFY_CODES[e.code] : undefined;
  if (fastifyCode) return { body: body(fastifyCode, e!.message ?? fastifyCode), internal: false };
  // Any other client error Fastify reports (it sets statusCode 4xx).
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = HTTP_STATUS_CODES[e.statusCode] ?? 'VALIDATION_FAILED';
    return { body: body(code, e.message ?? code), internal: false };
  }
  const dbCode = databaseCode(err);
  if (dbCode && DB_BAD_DATA.has(dbCode)) return { body: body('VALIDATION_FAILED', 'A value is too long, out of range, or not storable text'), internal: false };
  if (isDatabaseUnavailable(err)) return { body: body('SERVICE_UNAVAILABLE', 'The database is unavailable, try again later'), internal: true };
  return { body: body('INTERNAL_ERROR', 'Internal server error'), internal: true };
}
