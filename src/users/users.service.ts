import { Injectable } from '@nestjs/common';
import { AppCache } from '../cache/app-cache';
import { UnauthorizedError } from '../common/errors/app-error';
import { Sql } from '../database/sql';
import type { SealedMobile } from '../data-protection/mobile-number';
import { UserDto } from './dto/user.dto';

/** Profile fields as WeChat gives them; `undefined` means "not given, keep what is stored". */
export interface WechatProfile {
  nickname?: string | null;
  avatarUrl?: string | null;
  gender?: number | null;
  country?: string | null;
  province?: string | null;
  city?: string | null;
}
export type ProfileUpdate = WechatProfile;

const PROFILE_COLUMNS = { nickname: 'nickname', avatarUrl: 'avatar_url', gender: 'gender', country: 'country', province: 'province', city: 'city' } as const;
const PROFILE_KEYS = Object.keys(PROFILE_COLUMNS) as (keyof WechatProfile)[];
const PROFILE_TTL_MS = 10 * 60_000;
const USER_COLUMNS = `"id", "open_id", "union_id", "nickname", "avatar_url", "gender", "country", "province", "city", "mobile", "mobile_verified_at", "avatar_pending_url", "created_at", "updated_at"`;
const UPSERT_SQL = `
  INSERT INTO "wechat_user" ("open_id", "union_id", ${PROFILE_KEYS.map((k) => `"${PROFILE_COLUMNS[k]}"`).join(', ')})
  VALUES ($1, $2, ${PROFILE_KEYS.map((_, i) => `$${i + 3}`).join(', ')})
  ON CONFLICT ("open_id") DO UPDATE SET
    "union_id" = COALESCE(EXCLUDED."union_id", "wechat_user"."union_id"),
    ${PROFILE_KEYS.map((k) => `"${PROFILE_COLUMNS[k]}" = COALESCE(EXCLUDED."${PROFILE_COLUMNS[k]}", "wechat_user"."${PROFILE_COLUMNS[k]}")`).join(',\n    ')},
    "deleted_at" = NULL,
    "updated_at" = now()
  RETURNING ${USER_COLUMNS}, "token_version"`;

/**
 * The `wechat_user` table. Every write is a single statement, so concurrent requests need no locks.
 * Reads of a user go through the cache (shared between instances with Redis); every write puts the
 * row it returned there, so readers never see a value older than the last write they could observe.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly sql: Sql,
    private readonly cache: AppCache,
  ) {}

  /**
   * Creates or updates the user of an openid in one `INSERT … ON CONFLICT` (the unique index on
   * open_id makes simultaneous first logins converge on one row). Given fields overwrite, absent
   * ones keep their stored value, and a deleted user is reactivated.
   */
  async upsertOnLogin(openId: string, unionId: string | undefined, profile: WechatProfile): Promise<{ user: UserDto; tokenVersion: number }> {
    // Absent fields are sent as NULL, and COALESCE keeps the stored value for them: one statement
    // text for every login, so it is prepared once per connection.
    const rows = await this.sql.prepared('wechat_user_upsert', UPSERT_SQL, [openId, unionId ?? null, ...PROFILE_KEYS.map((k) => profile[k] ?? null)]);
    const user = UserDto.fromRow(rows[0]);
    await this.remember(user);
    return { user, tokenVersion: rows[0].token_version as number };
  }

  /** The active (not deleted) user, from the cache when it has it; undefined when gone. */
  async findActive(id: number): Promise<UserDto | undefined> {
    const cached = await this.cache.get<UserDto>(cacheKey(id));
    if (cached) return cached;
    const rows = await this.sql.prepared('wechat_user_by_id', `SELECT ${USER_COLUMNS} FROM "wechat_user" WHERE "id" = $1 AND "deleted_at" IS NULL`, [id]);
    if (!rows[0]) return undefined;
    const user = UserDto.fromRow(rows[0]);
    await this.remember(user);
    return user;
  }

  async updateProfile(id: number, update: ProfileUpdate): Promise<UserDto> {
    const entries = PROFILE_KEYS.filter((k) => update[k] !== undefined);
    if (entries.length === 0) {
      const current = await this.findActive(id);
      if (!current) throw new UnauthorizedError('User no longer exists');
      return current;
    }
    const sets = entries.map((k, i) => `"${PROFILE_COLUMNS[k]}" = $${i + 2}`);
    return this.updateOne(id, `${sets.join(', ')}, "updated_at" = now()`, entries.map((k) => update[k]));
  }

  /** Stores a phone number sealed by MobileVault: the envelope, its lookup hash, and when WeChat gave it. */
  setMobile(id: number, mobile: SealedMobile): Promise<UserDto> {
    return this.updateOne(id, `"mobile" = $2, "mobile_hash" = $3, "mobile_verified_at" = now(), "updated_at" = now()`, [mobile.ciphertext, mobile.lookupHash]);
  }

  /**
   * Soft delete: the personal data goes, the row stays (its id and openid are kept so a later login
   * reactivates the same account, empty). Returns the openid, or undefined if there was no active user.
   */
  async softDelete(id: number): Promise<{ openId: string } | undefined> {
    const rows = await this.sql.rows<{ open_id: string }>(
      `UPDATE "wechat_user" SET
         "nickname" = NULL, "avatar_url" = NULL, "gender" = NULL, "country" = NULL, "province" = NULL,
         "city" = NULL, "mobile" = NULL, "union_id" = NULL,
         "token_version" = "token_version" + 1, "deleted_at" = now(), "updated_at" = now()
       WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING "open_id"`,
      [id],
    );
    await this.cache.del(cacheKey(id));
    return rows[0] ? { openId: rows[0].open_id } : undefined;
  }

  /** The user of an openid, deleted or not (WeChat's pushes name users by openid). */
  async findIdByOpenId(openId: string): Promise<{ id: number; deleted: boolean } | undefined> {
    const rows = await this.sql.rows<{ id: number | string; deleted: boolean }>(`SELECT "id", "deleted_at" IS NOT NULL AS "deleted" FROM "wechat_user" WHERE "open_id" = $1`, [openId]);
    return rows[0] ? { id: Number(rows[0].id), deleted: rows[0].deleted } : undefined;
  }

  /**
   * Erases data WeChat told us to delete (privacy push events): nickname and avatar, and/or the
   * phone number. Returns false when there is no active user.
   */
  async erase(id: number, what: { profile?: boolean; mobile?: boolean }): Promise<boolean> {
    // The avatar awaiting WeChat's check goes with the avatar (and the mobile's hash and time with it, by trigger).
    const sets = [...(what.profile ? ['"nickname" = NULL', '"avatar_url" = NULL', '"avatar_pending_url" = NULL'] : []), ...(what.mobile ? ['"mobile" = NULL'] : [])];
    if (sets.length === 0) return (await this.findActive(id)) !== undefined;
    const rows = await this.sql.rows(`UPDATE "wechat_user" SET ${sets.join(', ')}, "updated_at" = now() WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING ${USER_COLUMNS}`, [id]);
    if (!rows[0]) return false;
    if (what.profile) await this.sql.rows(`DELETE FROM "avatar_image" WHERE "user_id" = $1`, [id]);
    await this.remember(UserDto.fromRow(rows[0]));
    return true;
  }

  private async updateOne(id: number, assignments: string, params: unknown[]): Promise<UserDto> {
    const rows = await this.sql.rows(
      `UPDATE "wechat_user" SET ${assignments} WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING ${USER_COLUMNS}`,
      [id, ...params],
    );
    if (!rows[0]) throw new UnauthorizedError('User no longer exists');
    const user = UserDto.fromRow(rows[0]);
    await this.remember(user);
    return user;
  }

  /** Puts a user row just written elsewhere (avatar verdicts) in the cache, as every write here does. */
  remember(user: UserDto): Promise<void> {
    return this.cache.set(cacheKey(user.id), user, PROFILE_TTL_MS);
  }
}

const cacheKey = (id: number) => `user:${id}`;
