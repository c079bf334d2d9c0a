import { Injectable } from '@nestjs/common';
import { UnauthorizedError } from '../common/errors/app-error';
import type { Suggest } from '../content-security/content-security.client';
import { Sql } from '../database/sql';
import { WECHAT_USER_COLUMNS, type WechatUserRow } from '../users/wechat-user.repository';

/** What a verdict did: its outcome, the user row it changed (if any), and the images it deleted. */
export interface DecidedCheck {
  outcome: 'approved' | 'rejected' | 'superseded' | 'duplicate' | 'unknown' | 'other_app';
  row?: WechatUserRow;
  deletedImages: string[];
}

/**
 * A check was asked as the user's identity in one app: only a verdict of that app (for that openid,
 * when the push names one) decides it. `app`, `openId`: their statement parameters (NULL: not checked).
 * Checks recorded before `content_check` kept the identity they were asked as are held to the user
 * having an identity in that app (with that openid).
 */
const fromItsApp = (app: string, openId: string) =>
  `(${app}::varchar IS NULL OR CASE WHEN "content_check"."app_id" IS NOT NULL
     THEN "content_check"."app_id" = ${app} AND (${openId}::varchar IS NULL OR "content_check"."open_id" = ${openId})
     ELSE EXISTS (SELECT 1 FROM "wechat_identity" i WHERE i."user_id" = "content_check"."user_id" AND i."app_id" = ${app} AND (${openId}::varchar IS NULL OR i."open_id" = ${openId})) END)`;

/** A check WeChat has started (its trace_id) and that waits for its verdict. */
export interface PendingCheck {
  traceId: string;
  mediaUrl: string;
  avatarId?: string;
  /** The identity the check was asked as: only a verdict of this app, for this openid, decides it. */
  askedAs: { appId: string; openId: string };
}

/** Where a verdict came from: the app whose push route received it, and the openid it names (FromUserName). */
export interface VerdictSource {
  appId: string;
  openId: string | undefined;
}

/**
 * The avatar image check's units of work, each one transaction over `content_check`, `avatar_image`
 * and the user's pending avatar: recording a started check, clearing a pending avatar, applying a verdict.
 */
@Injectable()
export class AvatarReviewRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Records a started check and makes its image the user's pending avatar; an earlier upload still
   * waiting is superseded and its image deleted. UNAUTHORIZED (nothing written) when the user is gone.
   */
  markPending(userId: number, check: PendingCheck): Promise<{ row: WechatUserRow; deletedImages: string[] }> {
    const { traceId, mediaUrl, avatarId, askedAs } = check;
    return this.sql.transaction(async (tx) => {
      await tx.rows(`INSERT INTO "content_check" ("user_id", "kind", "trace_id", "verdict", "media_url", "avatar_id", "app_id", "open_id") VALUES ($1, 'avatar', $2, 'pending', $3, $4, $5, $6)`, [
        userId,
        traceId,
        mediaUrl,
        avatarId ?? null,
        askedAs.appId,
        askedAs.openId,
      ]);
      const superseded = await tx.rows<{ id: string }>(
        `DELETE FROM "avatar_image" WHERE "id" IN (SELECT "avatar_id" FROM "content_check" WHERE "user_id" = $1 AND "verdict" = 'pending' AND "avatar_id" IS NOT NULL AND "trace_id" <> $2) RETURNING "id"`,
        [userId, traceId],
      );
      const [row] = await tx.rows<WechatUserRow>(`UPDATE "wechat_user" SET "avatar_pending_url" = $2, "updated_at" = now() WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING ${WECHAT_USER_COLUMNS}`, [
        userId,
        mediaUrl,
      ]);
      if (!row) throw new UnauthorizedError('User no longer exists');
      return { row, deletedImages: superseded.map((r) => r.id) };
    });
  }

  /** Drops a pending avatar and every stored image of the user; returns the deleted images. */
  clearPending(userId: number): Promise<string[]> {
    return this.sql.transaction(async (tx) => {
      await tx.rows(`UPDATE "wechat_user" SET "avatar_pending_url" = NULL WHERE "id" = $1`, [userId]);
      const deleted = await tx.rows<{ id: string }>(`DELETE FROM "avatar_image" WHERE "user_id" = $1 RETURNING "id"`, [userId]);
      return deleted.map((r) => r.id);
    });
  }

  /**
   * Applies a verdict to its pending check, once: `pass`/`review` make the image the avatar (earlier
   * images go), `risky` deletes it and keeps the previous avatar, a check overtaken by a newer upload
   * only deletes its image. A check already decided is a `duplicate`; an unknown one `unknown`.
   */
  decide(traceId: string, suggest: Suggest, label: string, from?: VerdictSource): Promise<DecidedCheck> {
    return this.sql.transaction(async (tx): Promise<DecidedCheck> => {
      const source = [from?.appId ?? null, from?.openId ?? null];
      const [check] = await tx.rows<{ user_id: string; media_url: string; avatar_id: string | null }>(
        `UPDATE "content_check" SET "verdict" = $2, "label" = $3, "decided_at" = now()
         WHERE "trace_id" = $1 AND "kind" = 'avatar' AND "verdict" = 'pending' AND ${fromItsApp('$4', '$5')}
         RETURNING "user_id", "media_url", "avatar_id"`,
        [traceId, suggest, label, ...source],
      );
      if (!check) {
        const [known] = await tx.rows<{ verdict: string; from_its_app: boolean }>(`SELECT "verdict", ${fromItsApp('$2', '$3')} AS "from_its_app" FROM "content_check" WHERE "trace_id" = $1`, [
          traceId,
          ...source,
        ]);
        if (!known) return { outcome: 'unknown', deletedImages: [] };
        if (known.verdict !== 'pending') return { outcome: 'duplicate', deletedImages: [] };
        // Still pending and of this app: its row was committed between the two statements, look again.
        return { outcome: known.from_its_app ? 'unknown' : 'other_app', deletedImages: [] };
      }
      const userId = Number(check.user_id);
      const deleteOwnImage = async () => {
        if (check.avatar_id) await tx.rows(`DELETE FROM "avatar_image" WHERE "id" = $1`, [check.avatar_id]);
        return check.avatar_id ? [check.avatar_id] : [];
      };
      if (suggest === 'risky') {
        const deletedImages = await deleteOwnImage();
        const [row] = await tx.rows<WechatUserRow>(
          `UPDATE "wechat_user" SET "avatar_pending_url" = NULL, "updated_at" = now() WHERE "id" = $1 AND "avatar_pending_url" = $2 RETURNING ${WECHAT_USER_COLUMNS}`,
          [userId, check.media_url],
        );
        return { outcome: 'rejected', row, deletedImages };
      }
      const [row] = await tx.rows<WechatUserRow>(
        `UPDATE "wechat_user" SET "avatar_url" = $2, "avatar_pending_url" = NULL, "updated_at" = now()
         WHERE "id" = $1 AND "avatar_pending_url" = $2 AND "deleted_at" IS NULL RETURNING ${WECHAT_USER_COLUMNS}`,
        [userId, check.media_url],
      );
      if (!row) return { outcome: 'superseded', deletedImages: await deleteOwnImage() };
      // The new avatar replaces the old: earlier uploads of this user are no longer shown anywhere.
      const replaced = await tx.rows<{ id: string }>(`DELETE FROM "avatar_image" WHERE "user_id" = $1 AND "id" <> $2 RETURNING "id"`, [userId, check.avatar_id ?? '']);
      return { outcome: 'approved', row, deletedImages: replaced.map((r) => r.id) };
    });
  }
}
