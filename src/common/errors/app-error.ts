/** Every error code the API answers with (README, Errors), with its HTTP status. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  WECHAT_CODE_INVALID: 401,
  PHONE_CODE_INVALID: 400,
  WECHAT_USER_BLOCKED: 403,
  WECHAT_RATE_LIMITED: 429,
  WECHAT_UNAVAILABLE: 503,
  WECHAT_BAD_RESPONSE: 502,
  SIGNATURE_MISMATCH: 401,
  DECRYPT_FAILED: 400,
  WATERMARK_MISMATCH: 400,
  UNAUTHORIZED: 401,
  SESSION_EXPIRED: 401,
  SERVICE_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  CONTENT_RISKY: 400,
  INVALID_IMAGE: 400,
  PUSH_SIGNATURE_MISMATCH: 401,
  FORBIDDEN: 403,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  TOO_MANY_REQUESTS: 429,
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure the client is told about as `{ statusCode, code, message }`. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.status = ERROR_STATUS[code];
  }
}

export class ValidationFailedError extends AppError {
  constructor(message: string) {
    super('VALIDATION_FAILED', message);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'Missing or invalid bearer token') {
    super('UNAUTHORIZED', message);
  }
}
export class ServiceUnavailableError extends AppError {
  constructor(what: string, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', `${what} is unavailable, try again later`, { cause });
  }
}
