import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '../errors/app-error';

const EXAMPLE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'code must be shorter than or equal to 128 characters',
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
};

/** Documents a route's error answers (`{ statusCode, code, message }`), grouped by HTTP status. */
export function ApiErrorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, group]) =>
      ApiResponse({
        status,
        description: group.join(' | '),
        schema: {
          type: 'object',
          required: ['statusCode', 'code', 'message'],
          properties: {
            statusCode: { type: 'integer', example: status },
            code: { type: 'string', enum: group, example: group[0] },
            message: { type: 'string', example: EXAMPLE_MESSAGES[group[0]] ?? group[0] },
          },
        },
      }),
    ),
  );
}
