import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Sql } from '../database/sql';
import { DatabaseNotifications } from '../database/database-notifications';
import type { ProcessedAvatar } from './avatar-image.processor';

/**
 * Recently served images are kept in memory: an image never changes under its id, and a deletion
 * anywhere reaches every instance at once (a trigger on every delete notifies AVATAR_DELETED_CHANNEL,
 * whichever code path or SQL did it). The TTL only bounds how long an unpopular image takes memory.
 */
const SERVED_TTL_MS = 60_000;
/** The channel the `avatar_image` delete trigger notifies, with the image id as payload. */
const AVATAR_DELETED_CHANNEL = 'avatar_image_deleted';
/** Memory for recently served images in one instance. */
const SERVED_MAX_BYTES = 8 * 1024 * 1024;

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
  /** Oldest first (a Map keeps insertion order): a small LRU bounded in bytes. */
  private readonly served = new Map<string, { image: ServedAvatar; until: number }>();
  private servedBytes = 0;

  constructor(
    private readonly sql: Sql,
    private readonly deletions: DatabaseNotifications,
  ) {
    // Undefined: deletions may have been missed, and `deletions.live` is false until they cannot be.
    deletions.subscribe(AVATAR_DELETED_CHANNEL, (id) => (id === undefined ? this.forgetAll() : this.forget(id)));
  }

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

  /**
   * The image, or undefined when unknown or deleted. A hot path: a popular avatar is read from the
   * database at most once per SERVED_TTL_MS per instance, otherwise one prepared statement.
   */
  async find(id: string): Promise<ServedAvatar | undefined> {
    const now = Date.now();
    const hit = this.served.get(id);
    if (hit && hit.until > now && this.deletions.live) return hit.image;
    if (hit) this.forget(id);
    const image = await this.read(id);
    if (image && this.deletions.live && image.data.length <= SERVED_MAX_BYTES / 16) {
      this.served.set(id, { image, until: now + SERVED_TTL_MS });
      this.servedBytes += image.data.length;
      for (const [oldest, entry] of this.served) {
        if (this.servedBytes <= SERVED_MAX_BYTES) break;
        this.forget(oldest, entry.image);
      }
    }
    return image;
  }

  /** Drops images this instance just deleted (other instances hear of it from the database). */
  evict(ids: (string | null | undefined)[]): void {
    for (const id of ids) if (id) this.forget(id);
  }

  private forgetAll(): void {
    this.served.clear();
    this.servedBytes = 0;
  }

  private forget(id: string, image = this.served.get(id)?.image): void {
    if (image && this.served.delete(id)) this.servedBytes -= image.data.length;
  }

  private async read(id: string): Promise<ServedAvatar | undefined> {
    const rows = await this.sql.prepared<{ data: Buffer; content_type: string; etag: string }>('avatar_image_by_id', `SELECT "data", "content_type", "etag" FROM "avatar_image" WHERE "id" = $1`, [id]);
    return rows[0] ? { data: rows[0].data, contentType: rows[0].content_type, etag: rows[0].etag } : undefined;
  }

  async delete(id: string): Promise<void> {
    this.forget(id);
    await this.sql.rows(`DELETE FROM "avatar_image" WHERE "id" = $1`, [id]);
  }
}
