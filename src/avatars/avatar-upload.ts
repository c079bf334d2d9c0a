import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { AppError, ValidationFailedError } from '../common/errors/app-error';
import { prependRouteHook } from '../common/http/route-hooks';
import { AvatarTooLargeError } from './avatar.errors';

/** The one route that takes multipart/form-data (PUT, and POST because wx.uploadFile only sends POST). */
export const AVATAR_UPLOAD_PATH = '/users/me/avatar';
/** The form field wx.uploadFile is told to use (`name: 'file'`). */
export const AVATAR_FIELD = 'file';
/** Room for the multipart framing and the formData fields wx.uploadFile may add around the file. */
const FRAMING_ALLOWANCE = 64 * 1024;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

class MultipartElsewhereError extends AppError {
  constructor(what = 'only POST|PUT /users/me/avatar takes multipart/form-data; send application/json') {
    super('UNSUPPORTED_MEDIA_TYPE', what);
  }
}

/**
 * @fastify/multipart, for the avatar route only. The plugin's parser is registered on the app (Nest
 * puts every route there), so every other route with a body refuses multipart with 415 before
 * validation, as it refuses any body that is not JSON. Routes without a body get no hook at all.
 * The file is streamed through a size cap; nothing is parsed before the handler asks for it.
 */
export function registerAvatarUploads(fastify: FastifyInstance, maxBytes: number): void {
  void fastify.register(multipart, {
    limits: { fileSize: Math.max(maxBytes, 1), files: 1, fields: 20, fieldSize: 4096, parts: 22, headerPairs: 50 },
    throwFileSizeLimit: true,
  });
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url === AVATAR_UPLOAD_PATH || !methods.some((m) => BODY_METHODS.has(m))) return;
    prependRouteHook(route, 'preValidation', refuseMultipart);
  });
}

function refuseMultipart(request: FastifyRequest, _reply: unknown, done: (err?: Error) => void): void {
  done(request.isMultipart() ? new MultipartElsewhereError() : undefined);
}

/**
 * The bytes of the `file` field, at most `maxBytes` of them (413 as soon as the stream passes the
 * cap; a declared Content-Length far past it is refused before reading anything).
 */
export async function readAvatarUpload(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  if (!request.isMultipart()) throw new MultipartElsewhereError('the avatar must be sent as multipart/form-data (wx.uploadFile), file field `file`');
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + FRAMING_ALLOWANCE) throw new AvatarTooLargeError(maxBytes);
  try {
    // Fields before the file (wx.uploadFile's formData) are skipped; the first file must be `file`.
    const file = await request.file({ limits: { fileSize: maxBytes } });
    if (!file) throw new ValidationFailedError(`multipart field \`${AVATAR_FIELD}\` (the image file) is required`);
    if (file.fieldname !== AVATAR_FIELD) {
      file.file.resume();
      throw new ValidationFailedError(`the image must be sent in the multipart field \`${AVATAR_FIELD}\` (got \`${file.fieldname.slice(0, 40)}\`)`);
    }
    return await file.toBuffer();
  } catch (err) {
    if (err instanceof AppError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new AvatarTooLargeError(maxBytes);
    if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') throw new ValidationFailedError('too many multipart parts: send one file, field `file`');
    // busboy's complaints about a malformed body (no boundary, truncated part, bad headers).
    throw new ValidationFailedError(`malformed multipart body: ${String((err as Error).message).slice(0, 120)}`);
  }
}
