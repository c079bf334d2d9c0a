import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Sql } from '../database/sql';
import type { ProcessedAvatar } from './avatar-image.processor';

/** 128 random bits, base64url: an avatar's URL cannot be guessed from another's. */
const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export interface ServedAvatar {
  data: Buffer;
  contentType: string;
  etag: string;
}

/** Table `avatar_image`: re-encoded avatars, in PostgreSQL so every instance serves every image. */
@Injectable()
export class AvatarStore {
  constructor(private readonly sql: Sql) {}

  static isId(id: string): boolean {
    return ID_PATTERN.test(id);
  }

  async insert(userId: number, image: ProcessedAvatar): Promise<string> {
    const id = randomBytes(16).toString('base64url');
    await this.sql.rows(`INSERT INTO "avatar_image" ("id", "user_id", "content_type", "etag", "width", "height", "data") VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      id,
      userId,
      image.contentType,
      image.etag,
      image.width,
      image.height,
      image.data,
    ]);
    return id;
  }

  /** The image, or undefined when unknown or deleted. One prepared statement: this is a hot path. */
  async find(id: string): Promise<ServedAvatar | undefined> {
    const rows = await this.sql.prepared<{ data: Buffer; content_type: string; etag: string }>(
      'avatar_image_by_id',
      `SELECT "data", "content_type", "etag" FROM "avatar_image" WHERE "id" = $1`,
      [id],
    );
    return rows[0] ? { data: rows[0].data, contentType: rows[0].content_type, etag: rows[0].etag } : undefined;
  }

  async delete(id: string): Promise<void> {
    await this.sql.rows(`DELETE FROM "avatar_image" WHERE "id" = $1`, [id]);
  }
}
