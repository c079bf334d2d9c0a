import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { UnauthorizedError } from '../common/errors/app-error';
import { updateReturning } from '../database/update-returning';
import { WechatUser } from './wechat-user.entity';

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

/** The `wechat_user` table. Every write is a single statement, so concurrent requests need no locks. */
@Injectable()
export class UsersService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Creates or updates the user of an openid in one `INSERT … ON CONFLICT` (the unique index on
   * open_id makes simultaneous first logins converge on one row). Given fields overwrite, absent
   * ones keep their stored value, and a deleted user is reactivated. `beforeCommit` runs inside the
   * transaction: if it fails (the cache is down), the row is rolled back and the login writes nothing.
   */
  async upsertOnLogin(
    openId: string,
    unionId: string | undefined,
    profile: WechatProfile,
    beforeCommit: (user: WechatUser) => Promise<void> = async () => undefined,
  ): Promise<WechatUser> {
    const keys = Object.keys(PROFILE_COLUMNS) as (keyof WechatProfile)[];
    const values = [openId, unionId ?? null, ...keys.map((k) => profile[k] ?? null)];
    const given = keys.map((k) => profile[k] !== undefined && profile[k] !== null);
    const updates = keys.map((k, i) =>
      given[i] ? `"${PROFILE_COLUMNS[k]}" = EXCLUDED."${PROFILE_COLUMNS[k]}"` : `"${PROFILE_COLUMNS[k]}" = "wechat_user"."${PROFILE_COLUMNS[k]}"`,
    );
    return this.db.transaction(async (tx) => {
      const rows: Record<string, unknown>[] = await tx.query(
      `INSERT INTO "wechat_user" ("open_id", "union_id", ${keys.map((k) => `"${PROFILE_COLUMNS[k]}"`).join(', ')})
       VALUES ($1, $2, ${keys.map((_, i) => `$${i + 3}`).join(', ')})
       ON CONFLICT ("open_id") DO UPDATE SET
         "union_id" = COALESCE(EXCLUDED."union_id", "wechat_user"."union_id"),
         ${updates.join(',\n         ')},
         "deleted_at" = NULL,
         "updated_at" = now()
       RETURNING *`,
        values,
      );
      const user = toEntity(rows[0]);
      await beforeCommit(user);
      return user;
    });
  }

  /** The active (not deleted) user, or undefined. */
  async findActive(id: number): Promise<WechatUser | undefined> {
    const rows: Record<string, unknown>[] = await this.db.query(`SELECT * FROM "wechat_user" WHERE "id" = $1 AND "deleted_at" IS NULL`, [id]);
    return rows[0] ? toEntity(rows[0]) : undefined;
  }

  async updateProfile(id: number, update: ProfileUpdate): Promise<WechatUser> {
    const entries = (Object.keys(PROFILE_COLUMNS) as (keyof ProfileUpdate)[]).filter((k) => update[k] !== undefined);
    if (entries.length === 0) {
      const current = await this.findActive(id);
      if (!current) throw new UnauthorizedError('User no longer exists');
      return current;
    }
    const sets = entries.map((k, i) => `"${PROFILE_COLUMNS[k]}" = $${i + 2}`);
    const rows = await updateReturning<Record<string, unknown>>(
      this.db,
      `UPDATE "wechat_user" SET ${[...sets, '"updated_at" = now()'].join(', ')}
       WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING *`,
      [id, ...entries.map((k) => update[k])],
    );
    if (!rows[0]) throw new UnauthorizedError('User no longer exists');
    return toEntity(rows[0]);
  }

  async setMobile(id: number, mobile: string): Promise<WechatUser> {
    const rows = await updateReturning<Record<string, unknown>>(
      this.db,
      `UPDATE "wechat_user" SET "mobile" = $2, "updated_at" = now() WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING *`,
      [id, mobile],
    );
    if (!rows[0]) throw new UnauthorizedError('User no longer exists');
    return toEntity(rows[0]);
  }

  /**
   * Soft delete: the personal data goes, the row stays (its id and openid are kept so a later login
   * reactivates the same account, empty). Returns the openid, or undefined if there was no active user.
   */
  async softDelete(id: number): Promise<{ openId: string; tokenVersion: number } | undefined> {
    const rows = await updateReturning<{ open_id: string; token_version: number }>(
      this.db,
      `UPDATE "wechat_user" SET
         "nickname" = NULL, "avatar_url" = NULL, "gender" = NULL, "country" = NULL, "province" = NULL,
         "city" = NULL, "mobile" = NULL, "union_id" = NULL,
         "token_version" = "token_version" + 1, "deleted_at" = now(), "updated_at" = now()
       WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING "open_id", "token_version"`,
      [id],
    );
    return rows[0] ? { openId: rows[0].open_id, tokenVersion: rows[0].token_version } : undefined;
  }
}

function toEntity(row: Record<string, any>): WechatUser {
  return Object.assign(new WechatUser(), {
    id: row.id,
    nickname: row.nickname,
    avatarUrl: row.avatar_url,
    gender: row.gender,
    country: row.country,
    province: row.province,
    city: row.city,
    mobile: row.mobile,
    openId: row.open_id,
    unionId: row.union_id,
    tokenVersion: row.token_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  });
}
