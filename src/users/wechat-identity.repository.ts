import { Injectable } from '@nestjs/common';
import { Sql, type SqlExecutor } from '../database/sql';

/**
 * Advisory lock classes (the two-key form, so they never meet the migration lock's one-key form):
 * first logins take the lock of their (app, openid), then the lock of their unionid, always in this
 * order, so two of them can wait for each other but never in a cycle.
 */
const OPENID_LOCK_CLASS = 4_242_101;
const UNIONID_LOCK_CLASS = 4_242_102;

/**
 * The `wechat_identity` table: a user's openid in one mini program (unique per app), with the
 * unionid WeChat gave for it. Every statement on it lives here.
 */
@Injectable()
export class WechatIdentityRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Serialises first logins of one person, until the transaction ends: two logins of one openid, or
   * of one unionid in two apps, run one after the other, so the second sees what the first created.
   */
  async lockPerson(tx: SqlExecutor, appId: string, openId: string, unionId: string | undefined): Promise<void> {
    await tx.rows(`SELECT pg_advisory_xact_lock($1::int, hashtext($2))`, [OPENID_LOCK_CLASS, `${appId}:${openId}`]);
    if (unionId !== undefined) await tx.rows(`SELECT pg_advisory_xact_lock($1::int, hashtext($2))`, [UNIONID_LOCK_CLASS, unionId]);
  }

  /** The user who holds an identity with this unionid (the oldest such identity's), if any. */
  async userOfUnionId(tx: SqlExecutor, unionId: string): Promise<number | undefined> {
    const rows = await tx.rows<{ user_id: string }>(`SELECT "user_id" FROM "wechat_identity" WHERE "union_id" = $1 ORDER BY "id" LIMIT 1`, [unionId]);
    return rows[0] ? Number(rows[0].user_id) : undefined;
  }

  async insert(tx: SqlExecutor, identity: { userId: number; appId: string; openId: string; unionId: string | undefined }): Promise<void> {
    await tx.rows(`INSERT INTO "wechat_identity" ("user_id", "app_id", "open_id", "union_id") VALUES ($1, $2, $3, $4)`, [identity.userId, identity.appId, identity.openId, identity.unionId ?? null]);
  }

  /**
   * The user of an app's openid, deleted or not (WeChat's pushes name users by openid). A user of
   * the one-app schema written by an instance not yet upgraded has no identity yet: found by its
   * seed openid.
   */
  async findUser(appId: string, openId: string): Promise<{ id: number; deleted: boolean } | undefined> {
    const rows = await this.sql.rows<{ id: string; deleted: boolean }>(
      `SELECT u."id", u."deleted_at" IS NOT NULL AS "deleted" FROM "wechat_identity" i JOIN "wechat_user" u ON u."id" = i."user_id"
       WHERE i."app_id" = $1 AND i."open_id" = $2
       UNION ALL
       SELECT u."id", u."deleted_at" IS NOT NULL FROM "wechat_user" u
       WHERE u."open_id" = $2 AND NOT EXISTS (SELECT 1 FROM "wechat_identity" j WHERE j."user_id" = u."id")
       LIMIT 1`,
      [appId, openId],
    );
    return rows[0] ? { id: Number(rows[0].id), deleted: rows[0].deleted } : undefined;
  }

  /** A deleted account's identities no longer link new apps to it: their unionids go with the rest of its data. */
  async clearUnionIds(tx: SqlExecutor, userId: number): Promise<void> {
    await tx.rows(`UPDATE "wechat_identity" SET "union_id" = NULL WHERE "user_id" = $1 AND "union_id" IS NOT NULL`, [userId]);
  }
}
