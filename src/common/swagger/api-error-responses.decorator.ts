import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath, type HeadersObject, type ResponseObject } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '../errors/app-error';
import { ErrorResponse } from './error-response.dto';

const EXAMPLE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'code must be at most 128 characters',
  WECHAT_CODE_INVALID: 'WeChat rejected the login code (errcode 40163)',
  PHONE_CODE_INVALID: 'WeChat rejected the phone code (errcode 40029)',
  UNAUTHORIZED: 'Missing or invalid bearer token',
  SIGNATURE_MISMATCH: 'signature does not match rawData',
  DECRYPT_FAILED: 'encryptedData could not be decrypted: bad padding',
  WATERMARK_MISMATCH: 'encryptedData rejected: watermark.appid is not this mini program',
  SESSION_EXPIRED: 'No WeChat session for this user, call wx.login and log in again',
  WECHAT_UNAVAILABLE: 'WeChat is unavailable: timeout after 5000 ms',
  SERVICE_UNAVAILABLE: 'The database is unavailable, try again later',
  PUSH_SIGNATURE_MISMATCH: 'Push signature does not match',
  TOO_MANY_REQUESTS: 'Too many login attempts from this address, retry in 42 seconds',
  WECHAT_USER_BLOCKED: 'WeChat flagged this user as high risk (errcode 40226)',
  WECHAT_RATE_LIMITED: 'WeChat rate limit reached (errcode 45011), retry later',
  WECHAT_BAD_RESPONSE: 'Unexpected answer from WeChat: body is not JSON',
  NOT_FOUND: 'No such avatar',
  CONTENT_RISKY: "WeChat's content check judged the nickname risky (label 20001)",
  INVALID_IMAGE: 'The avatar must be a JPEG, PNG, WebP or GIF image of at most 4096×4096: unsupported image format',
  PAYLOAD_TOO_LARGE: 'Request body is too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported Media Type: text/plain',
};

/** Headers that come with an error code, documented wherever the code is. */
const ERROR_HEADERS: Partial<Record<ErrorCode, HeadersObject>> = {
  TOO_MANY_REQUESTS: {
    'Retry-After': { description: 'With TOO_MANY_REQUESTS: seconds until the next attempt may pass', schema: { type: 'integer', example: 42 } },
  },
};

/**
 * One error answer: the shared ErrorResponse schema, narrowed to the codes this status carries on
 * this route (so a client sees which codes to expect where).
 */
export function errorResponse(status: number, codes: ErrorCode[]): ResponseObject {
  const headers = Object.assign({}, ...codes.map((code) => ERROR_HEADERS[code] ?? {})) as HeadersObject;
  return {
    description: codes.join(' | '),
    ...(Object.keys(headers).length ? { headers } : {}),
    content: {
      'application/json': {
        schema: { allOf: [{ $ref: getSchemaPath(ErrorResponse) }, { type: 'object', properties: { code: { type: 'string', enum: codes } } }] },
        example: { statusCode: status, code: codes[0], message: EXAMPLE_MESSAGES[codes[0]] ?? codes[0] },
      },
    },
  };
}

/** Documents a route's error answers (`ErrorResponse`), grouped by HTTP status. */
export function ApiErrorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return applyDecorators(ApiExtraModels(ErrorResponse), ...[...byStatus].map(([status, group]) => ApiResponse({ status, ...errorResponse(status, group) })));
}
