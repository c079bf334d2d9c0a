import { Injectable } from '@nestjs/common';
import type { SealedMobile } from '../data-protection/mobile-number';
import { Sql } from '../database/sql';
import { UserDto } from './dto/user.dto';

/** Profile fields and their columns; `undefined` means "not given, keep what is stored". */
export interface ProfileFields {
  nickname?: string | null;
  avatarUrl?: string | null;
  gender?: number | null;
  country?: string | null;
  province?: string | null;
  city?: string | null;
}
const PROFILE_COLUMNS = { nickname: 'nickname', avatarUrl: 'avatar_url', gender: 'gender', country: 'country', province: 'province', city: 'city' } as const;
export const PROFILE_KEYS = Object.keys(PROFILE_COLUMNS) as (keyof ProfileFields)[];

/** A user row as the service needs it: what clients see, plus the state tokens are checked against. */
export interface UserRecord {
  user: UserDto;
  /** Bumped by every change of the row (a trigger): caches keep only newer records. */
  revision: number;
  tokenVersion: number;
  deleted: boolean;
}

/** Every column a read returns, in one place. */
const COLUMNS = `"id", "open_id", "union_id", "nickname", "avatar_url", "avatar_pending_url", "gender", "country", "province", "city", "mobile", "mobile_verified_at", "created_at", "updated_at", "token_version", "revision", "deleted_at"`;

/** A row with (at least) those columns, as the driver returns it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- driver rows are untyped; UserDto.fromRow reads the columns
export type WechatUserRow = Record<string, any>;

const UPSERT_SQL = `
  INSERT INTO "wechat_user" ("open_id", "union_id", ${PROFILE_KEYS.map((k) => `"${PROFILE_COLUMNS[k]}"`).join(', ')})
  VALUES ($1, $2, ${PROFILE_KEYS.map((_, i) => `$${i + 3}`).join(', ')})
  ON CONFLICT ("open_id") DO UPDATE SET
    "union_id" = COALESCE(EXCLUDED."union_id", "wechat_user"."union_id"),
    ${PROFILE_KEYS.map((k) => `"${PROFILE_COLUMNS[k]}" = COALESCE(EXCLUDED."${PROFILE_COLUMNS[k]}", "wechat_user"."${PROFILE_COLUMNS[k]}")`).join(',\n    ')},
    "deleted_at" = NULL,
    "updated_at" = now()
  RETURNING ${COLUMNS}`;

/** Personal data a deletion clears; the row, its id and openid stay so a later login finds the account. */
const CLEARED_ON_DELETE = `"nickname" = NULL, "avatar_url" = NULL, "avatar_pending_url" = NULL, "gender" = NULL, "country" = NULL, "province" = NULL, "city" = NULL, "mobile" = NULL, "union_id" = NULL`;
const REVOKE = `"token_version" = "token_version" + 1, "revoked_at" = clock_timestamp()`;

/**
 * The `wechat_user` table: every statement on it lives here. Each write is a single statement, so
 * concurrent requests need no locks; the unique index on open_id makes simultaneous first logins
 * converge on one row.
 */
@Injectable()
export class WechatUserRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Creates or updates the user of an openid. Given fields overwrite, absent ones (sent as NULL) keep
   * their stored value through COALESCE, so the statement text is fixed and prepared once per connection.
   * A deleted user is reactivated.
   */
  async upsertOnLogin(openId: string, unionId: string | undefined, profile: ProfileFields): Promise<UserRecord> {
    const rows = await this.sql.prepared('wechat_user_upsert', UPSERT_SQL, [openId, unionId ?? null, ...PROFILE_KEYS.map((k) => profile[k] ?? null)]);
    return toRecord(rows[0]);
  }

  /** The user of an id, deleted or not; undefined when there is no such row. */
  async findById(id: number): Promise<UserRecord | undefined> {
    const rows = await this.sql.prepared('wechat_user_by_id', `SELECT ${COLUMNS} FROM "wechat_user" WHERE "id" = $1`, [id]);
    return rows[0] && toRecord(rows[0]);
  }

  /** Sets the given profile fields of an active user; undefined when there is none. */
  updateProfile(id: number, fields: ProfileFields): Promise<UserRecord | undefined> {
    const keys = PROFILE_KEYS.filter((k) => fields[k] !== undefined);
    return this.updateActive(id, keys.map((k, i) => `"${PROFILE_COLUMNS[k]}" = $${i + 2}`).join(', '), keys.map((k) => fields[k]));
  }

  /** The sealed envelope, its lookup hash, and when WeChat gave the number. */
  setMobile(id: number, mobile: SealedMobile): Promise<UserRecord | undefined> {
    return this.updateActive(id, `"mobile" = $2, "mobile_hash" = $3, "mobile_verified_at" = now()`, [mobile.ciphertext, mobile.lookupHash]);
  }

  /** The id of an openid's user, deleted or not. */
  async findIdByOpenId(openId: string): Promise<{ id: number; deleted: boolean } | undefined> {
    const rows = await this.sql.rows<{ id: string; deleted: boolean }>(`SELECT "id", "deleted_at" IS NOT NULL AS "deleted" FROM "wechat_user" WHERE "open_id" = $1`, [openId]);
    return rows[0] ? { id: Number(rows[0].id), deleted: rows[0].deleted } : undefined;
  }

  /**
   * Clears the profile's nickname and avatar (the one awaiting its check and every stored image
   * too), and/or the phone number (a trigger clears its hash and time with it), of an active user.
   */
  async erase(id: number, what: { profile?: boolean; mobile?: boolean }): Promise<UserRecord | undefined> {
    const sets = [...(what.profile ? ['"nickname" = NULL', '"avatar_url" = NULL', '"avatar_pending_url" = NULL'] : []), ...(what.mobile ? ['"mobile" = NULL'] : [])];
    const rows = await this.sql.rows(
      `WITH "erased" AS (UPDATE "wechat_user" SET ${sets.join(', ')}, "updated_at" = now() WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING ${COLUMNS}),
            "images" AS (DELETE FROM "avatar_image" WHERE $2 AND "user_id" IN (SELECT "id" FROM "erased"))
       SELECT * FROM "erased"`,
      [id, Boolean(what.profile)],
    );
    return rows[0] && toRecord(rows[0]);
  }

  /** Every token issued until now stops working. */
  revokeTokens(id: number): Promise<UserRecord | undefined> {
    return this.updateActive(id, REVOKE, []);
  }

  /** Soft delete: personal data cleared, tokens revoked, the row marked deleted. */
  softDelete(id: number): Promise<UserRecord | undefined> {
    return this.updateActive(id, `${CLEARED_ON_DELETE}, ${REVOKE}, "deleted_at" = now()`, []);
  }

  /** Users whose tokens were revoked at or after `since`, newest first, at most `limit`. */
  async revokedSince(since: Date, limit: number): Promise<{ id: number; tokenVersion: number; deleted: boolean; revokedAt: Date }[]> {
    const rows = await this.sql.rows<{ id: string; token_version: number; deleted: boolean; revoked_at: Date }>(
      `SELECT "id", "token_version", "deleted_at" IS NOT NULL AS "deleted", "revoked_at" FROM "wechat_user"
       WHERE "revoked_at" >= $1 ORDER BY "revoked_at" DESC LIMIT $2`,
      [since, limit],
    );
    return rows.map((r) => ({ id: Number(r.id), tokenVersion: r.token_version, deleted: r.deleted, revokedAt: r.revoked_at }));
  }

  private async updateActive(id: number, assignments: string, params: unknown[]): Promise<UserRecord | undefined> {
    const rows = await this.sql.rows(
      `UPDATE "wechat_user" SET ${assignments}${assignments ? ', ' : ''}"updated_at" = now() WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING ${COLUMNS}`,
      [id, ...params],
    );
    return rows[0] && toRecord(rows[0]);
  }
}

export function toRecord(row: WechatUserRow): UserRecord {
  return { user: UserDto.fromRow(row), revision: Number(row.revision), tokenVersion: row.token_version, deleted: row.deleted_at !== null };
}
