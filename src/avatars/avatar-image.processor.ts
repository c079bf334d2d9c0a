import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { AppError } from '../common/errors/app-error';

/** The largest input accepted, per side: bigger ones are refused before their pixels are decoded. */
export const MAX_INPUT_SIDE = 4096;
/** Stored avatars fit in this square. */
export const AVATAR_SIDE = 640;
export const AVATAR_CONTENT_TYPE = 'image/jpeg';
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif']);
/** Decoding a 4096×4096 image takes 64 MiB; two at a time keep an instance well inside its memory. */
const MAX_CONCURRENT = 2;

export class InvalidImageError extends AppError {
  constructor(reason: string) {
    super('INVALID_IMAGE', `The avatar must be a JPEG, PNG, WebP or GIF image of at most ${MAX_INPUT_SIDE}×${MAX_INPUT_SIDE}: ${reason}`);
  }
}

export interface ProcessedAvatar {
  data: Buffer;
  contentType: string;
  width: number;
  height: number;
  /** Strong validator of exactly these bytes. */
  etag: string;
}

// libvips' operation cache would keep decoded images of past uploads in memory; avatars are never reused.
sharp.cache(false);

/**
 * Decodes an upload with sharp (libvips) and re-encodes it: EXIF orientation applied, at most
 * 640×640, every piece of metadata (EXIF, GPS, XMP, ICC, text chunks) left behind, always JPEG.
 * Only the re-encoded pixels are ever stored or served, never the bytes a client sent.
 */
@Injectable()
export class AvatarImageProcessor {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  async process(input: Buffer): Promise<ProcessedAvatar> {
    await this.acquire();
    try {
      return await this.reencode(input);
    } finally {
      this.release();
    }
  }

  private async reencode(input: Buffer): Promise<ProcessedAvatar> {
    // The pixel limit stops a decompression bomb inside libvips even if a header lied about its size.
    const options = { limitInputPixels: MAX_INPUT_SIDE * MAX_INPUT_SIDE, failOn: 'error' as const, sequentialRead: true };
    let meta: sharp.Metadata;
    try {
      // Headers only: nothing is decoded yet, so the size can be judged (and named) first.
      meta = await sharp(input, { ...options, limitInputPixels: false }).metadata();
    } catch {
      throw new InvalidImageError('not a decodable image');
    }
    if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) throw new InvalidImageError(`format ${meta.format ?? 'unknown'} is not accepted`);
    if (!meta.width || !meta.height) throw new InvalidImageError('no dimensions');
    if (meta.width > MAX_INPUT_SIDE || meta.height > MAX_INPUT_SIDE) throw new InvalidImageError(`${meta.width}×${meta.height} is too large`);
    try {
      const { data, info } = await sharp(input, options)
        .rotate()
        .resize(AVATAR_SIDE, AVATAR_SIDE, { fit: 'inside', withoutEnlargement: true })
        // Transparent PNG/WebP/GIF pixels become white rather than black in JPEG.
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 85, mozjpeg: true })
        .toBuffer({ resolveWithObject: true });
      return { data, contentType: AVATAR_CONTENT_TYPE, width: info.width, height: info.height, etag: `"${createHash('sha256').update(data).digest('base64url').slice(0, 32)}"` };
    } catch (err) {
      throw new InvalidImageError(/pixel limit/i.test((err as Error).message) ? 'too many pixels' : 'the image data is damaged');
    }
  }

  private async acquire(): Promise<void> {
    if (this.running < MAX_CONCURRENT) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
