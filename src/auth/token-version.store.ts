import { Injectable } from '@nestjs/common';
import { AppCache } from '../cache/app-cache';
import { Sql } from '../database/sql';

/** Cached value for a deleted or missing user, so their tokens are refused without a query. */
const GONE = -1;
/** Bounded, so an instance without the shared cache (no REDIS_URL) catches up with others soon. */
const TTL_MS = 10 * 60_000;

/**
 * The current token version of each user (`wechat_user.token_version`): a token is valid only while
 * its `ver` claim equals it. Read through the cache, so a warm guarded request costs no database
 * round trip; logout and delete write the new version to the cache, so every instance sharing it
 * refuses old tokens at once.
 */
@Injectable()
export class TokenVersionStore {
  constructor(
    private readonly cache: AppCache,
    private readonly sql: Sql,
  ) {}

  /** The version tokens of this user must carry; undefined when the user is deleted or unknown. */
  async current(userId: number): Promise<number | undefined> {
    const key = cacheKey(userId);
    let version = await this.cache.get<number>(key);
    if (version === undefined) {
      const rows = await this.sql.prepared<{ token_version: number }>(
        'wechat_user_token_version',
        `SELECT "token_version" FROM "wechat_user" WHERE "id" = $1 AND "deleted_at" IS NULL`,
        [userId],
      );
      version = rows[0]?.token_version ?? GONE;
      await this.cache.set(key, version, TTL_MS);
    }
    return version === GONE ? undefined : version;
  }

  /** Records the version of a user just written by a login (which may reactivate a deleted user). */
  async remember(userId: number, version: number): Promise<void> {
    await this.cache.set(cacheKey(userId), version, TTL_MS);
  }

  /** Revokes every token issued to the user until now. */
  async revokeAll(userId: number): Promise<void> {
    const rows = await this.sql.rows<{ token_version: number }>(
      `UPDATE "wechat_user" SET "token_version" = "token_version" + 1 WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING "token_version"`,
      [userId],
    );
    await this.cache.set(cacheKey(userId), rows[0]?.token_version ?? GONE, TTL_MS);
  }

  /** After a delete (which bumped the version in the same statement): refuse the user's tokens at once. */
  async forget(userId: number): Promise<void> {
    await this.cache.set(cacheKey(userId), GONE, TTL_MS);
  }
}

const cacheKey = (userId: number) => `tv:${userId}`;
