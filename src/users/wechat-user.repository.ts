import { Injectable } from '@nestjs/common';
import type { SealedMobile } from '../data-protection/mobile-number';
import { Sql, type SqlExecutor } from '../database/sql';
import { type SealedSessionKey, saveSessionKeyStep } from '../session-keys/session-key.repository';
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
const PROFILE_KEYS = Object.keys(PROFILE_COLUMNS) as (keyof ProfileFields)[];

/** A user row as the service needs it: what clients see, plus the state tokens are checked against. */
export interface UserRecord {
  user: UserDto;
  /** Bumped by every change of the row (a trigger): caches keep only newer records. */
  revision: number;
  tokenVersion: number;
  deleted: boolean;
}

/**
 * Every column a read returns, in one place, with the user's identities (one per mini program,
 * oldest first) so the cached record answers `identities` and per-app openids without a query.
 * They come from a function with a snapshot of its own, not a subquery: an UPDATE that waited for a
 * first login in another app returns that login's revision, so it must see its identity too
 * (migration 1764420000000 says why).
 */
const COLUMNS = `"id", "open_id", "union_id", "nickname", "avatar_url", "avatar_pending_url", "gender", "country", "province", "city", "mobile", "mobile_verified_at", "created_at", "updated_at", "token_version", "revision", "deleted_at",
  "wechat_user_identities"("wechat_user"."id") AS "identities"`;

/** What a statement on `wechat_user` written elsewhere (the avatar flow) returns for `UsersService.rememberRow`. */
export const WECHAT_USER_COLUMNS = COLUMNS;

/** A row with (at least) those columns, as the driver returns it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- driver rows are untyped; UserDto.fromRow reads the columns
export type WechatUserRow = Record<string, any>;

/**
 * A login of a known identity, in one statement: stamps the identity's last login, then updates the
 * user it belongs to (given fields overwrite, absent ones, sent as NULL, keep their stored value
 * through COALESCE; a deleted user is reactivated), and, when session keys live in the database,
 * saves the login's key with it. No row: the identity is new, and nothing was written.
 */
const loginSql = (withSessionKey: boolean) => `
  WITH "identity" AS (
    UPDATE "wechat_identity" SET "last_login_at" = now(), "union_id" = COALESCE($3, "union_id")
    WHERE "app_id" = $1 AND "open_id" = $2
    RETURNING "user_id"
  )${withSessionKey ? `, "session_key" AS (${saveSessionKeyStep('identity', { appId: '$1', openId: '$2', sealed: `$${PROFILE_KEYS.length + 4}`, expiresAt: `$${PROFILE_KEYS.length + 5}` })})` : ''}
  UPDATE "wechat_user" SET
    "union_id" = COALESCE($3, "wechat_user"."union_id"),
    ${PROFILE_KEYS.map((k, i) => `"${PROFILE_COLUMNS[k]}" = COALESCE($${i + 4}, "wechat_user"."${PROFILE_COLUMNS[k]}")`).join(',\n    ')},
    "deleted_at" = NULL,
    "updated_at" = now()
  FROM "identity" WHERE "wechat_user"."id" = "identity"."user_id"
  RETURNING ${COLUMNS}`;
const LOGIN_SQL = loginSql(false);
const LOGIN_WITH_SESSION_KEY_SQL = loginSql(true);

/** Personal data a deletion clears; the row, its id and openid stay so a later login finds the account. */
const CLEARED_ON_DELETE = `"nickname" = NULL, "avatar_url" = NULL, "avatar_pending_url" = NULL, "gender" = NULL, "country" = NULL, "province" = NULL, "city" = NULL, "mobile" = NULL, "union_id" = NULL`;
const REVOKE = `"token_version" = "token_version" + 1, "revoked_at" = clock_timestamp()`;

/**
 * The `wechat_user` table: every statement on it lives here. Each write is a single statement; a
 * first login's statements run in one transaction (see IdentityLinker), for which the methods take
 * its executor.
 */
@Injectable()
export class WechatUserRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * The login of an app's openid that already has an identity: updates its user, and saves `sessionKey`
   * when given (fixed text, prepared once per connection). Undefined when the identity is new.
   */
  async login(db: SqlExecutor, appId: string, openId: string, unionId: string | undefined, profile: ProfileFields, sessionKey?: SealedSessionKey): Promise<UserRecord | undefined> {
    const params = [appId, openId, unionId ?? null, ...PROFILE_KEYS.map((k) => profile[k] ?? null)];
    const rows = sessionKey
      ? await db.prepared('wechat_user_login_with_session_key', LOGIN_WITH_SESSION_KEY_SQL, [...params, sessionKey.sealed, sessionKey.expiresAt])
      : await db.prepared('wechat_user_login', LOGIN_SQL, params);
    return rows[0] && toRecord(rows[0]);
  }

  /**
   * A user of the one-app schema written by an instance not yet upgraded (a rolling upgrade): its
   * seed openid is this one and it has no identity yet, so the login adopts it.
   */
  async findUnlinked(tx: SqlExecutor, openId: string): Promise<number | undefined> {
    const rows = await tx.rows<{ id: string }>(`SELECT u."id" FROM "wechat_user" u WHERE u."open_id" = $1 AND NOT EXISTS (SELECT 1 FROM "wechat_identity" i WHERE i."user_id" = u."id")`, [openId]);
    return rows[0] ? Number(rows[0].id) : undefined;
  }

  /** A new user whose seed openid is its first identity's. Undefined when a user already holds this seed openid. */
  async insertSeed(tx: SqlExecutor, openId: string): Promise<number | undefined> {
    const rows = await tx.rows<{ id: string }>(`INSERT INTO "wechat_user" ("open_id") VALUES ($1) ON CONFLICT ("open_id") DO NOTHING RETURNING "id"`, [openId]);
    return rows[0] ? Number(rows[0].id) : undefined;
  }

  /** The user whose seed openid (its first identity's) this is. */
  async findBySeed(tx: SqlExecutor, openId: string): Promise<number | undefined> {
    const rows = await tx.rows<{ id: string }>(`SELECT "id" FROM "wechat_user" WHERE "open_id" = $1`, [openId]);
    return rows[0] ? Number(rows[0].id) : undefined;
  }

  /** The user of an id, deleted or not; undefined when there is no such row. */
  async findById(id: number): Promise<UserRecord | undefined> {
    const rows = await this.sql.prepared('wechat_user_by_id', `SELECT ${COLUMNS} FROM "wechat_user" WHERE "id" = $1`, [id]);
    return rows[0] && toRecord(rows[0]);
  }

  /** Sets the given profile fields of an active user; undefined when there is none. */
  updateProfile(id: number, fields: ProfileFields): Promise<UserRecord | undefined> {
    const keys = PROFILE_KEYS.filter((k) => fields[k] !== undefined);
    return this.updateActive(
      id,
      keys.map((k, i) => `"${PROFILE_COLUMNS[k]}" = $${i + 2}`).join(', '),
      keys.map((k) => fields[k]),
    );
  }

  /** The sealed envelope, its lookup hash, and when WeChat gave the number. */
  setMobile(id: number, mobile: SealedMobile): Promise<UserRecord | undefined> {
    return this.updateActive(id, `"mobile" = $2, "mobile_hash" = $3, "mobile_verified_at" = now()`, [mobile.ciphertext, mobile.lookupHash]);
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
  softDelete(id: number, db: SqlExecutor = this.sql): Promise<UserRecord | undefined> {
    return this.updateActive(id, `${CLEARED_ON_DELETE}, ${REVOKE}, "deleted_at" = now()`, [], db);
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

  private async updateActive(id: number, assignments: string, params: unknown[], db: SqlExecutor = this.sql): Promise<UserRecord | undefined> {
    const rows = await db.rows(`UPDATE "wechat_user" SET ${assignments}${assignments ? ', ' : ''}"updated_at" = now() WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING ${COLUMNS}`, [id, ...params]);
    return rows[0] && toRecord(rows[0]);
  }
}

export function toRecord(row: WechatUserRow): UserRecord {
  return { user: UserDto.fromRow(row), revision: Number(row.revision), tokenVersion: row.token_version, deleted: row.deleted_at !== null };
}
