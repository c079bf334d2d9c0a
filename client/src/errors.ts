/** Error codes the service answers with (`{ statusCode, code, message }`). */
export type ServiceErrorCode =
  | 'VALIDATION_FAILED'
  | 'WECHAT_CODE_INVALID'
  | 'PHONE_CODE_INVALID'
  | 'WECHAT_USER_BLOCKED'
  | 'WECHAT_RATE_LIMITED'
  | 'WECHAT_UNAVAILABLE'
  | 'WECHAT_BAD_RESPONSE'
  | 'SIGNATURE_MISMATCH'
  | 'DECRYPT_FAILED'
  | 'WATERMARK_MISMATCH'
  | 'UNAUTHORIZED'
  | 'SESSION_EXPIRED'
  | 'SERVICE_UNAVAILABLE'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'FORBIDDEN'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'TOO_MANY_REQUESTS'
  | 'REQUEST_TIMEOUT'
  | 'HEADERS_TOO_LARGE'
  | 'CONTENT_RISKY'
  | 'INVALID_IMAGE'
  | 'INTERNAL_ERROR';

/**
 * Codes the library raises itself:
 * - `NETWORK_ERROR`: the platform's request/uploadFile failed before an answer came (offline, DNS, timeout, domain not whitelisted);
 * - `WX_LOGIN_FAILED`: `wx.login` failed or gave no code;
 * - `BAD_RESPONSE`: the service answered something that is not its documented JSON.
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'WX_LOGIN_FAILED' | 'BAD_RESPONSE';

/** Every code a page may see; other strings stay possible so a newer service's codes still come through. */
export type ErrorCode = ServiceErrorCode | ClientErrorCode | (string & {});

/**
 * Every failure of the client: `code` says what happened (switch on it to show the right message),
 * `statusCode` is the HTTP status (0 when no answer came).
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, statusCode: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = statusCode;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
