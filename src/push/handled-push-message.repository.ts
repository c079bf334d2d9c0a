import { Injectable } from '@nestjs/common';
import { Sql } from '../database/sql';

/** Outcome of a claim that is still being worked on. */
export const PROCESSING = 'processing';
/** A claim older than this is taken over: its handler died without releasing it. */
const STALE_CLAIM_SECONDS = 10;

export interface PushRecord {
  dedupKey: string;
  appId: string | null;
  msgType: string | null;
  event: string | null;
  openId: string | null;
  wechatCreatedAt: Date | null;
}

export interface PushResult {
  outcome: string;
  userId?: number | null;
  detail?: Record<string, unknown> | null;
}

export type Claim = { claimed: true; id: string } | { claimed: false; state: 'done' | 'busy' };

/**
 * The `wechat_push_message` table: which pushes were handled (the unique dedup_key makes
 * WeChat's retries one message) and what was done, the audit trail of privacy events.
 *
 * Handling is claim → work → complete. The claim is a row of its own, committed before the work,
 * so a retry arriving meanwhile waits instead of doing the work twice; a failed attempt releases
 * it (the message is then not handled, and WeChat's retry does the work).
 */
@Injectable()
export class HandledPushMessages {
  constructor(private readonly sql: Sql) {}

  async claim(record: PushRecord): Promise<Claim> {
    const inserted = await this.sql.rows<{ id: string }>(
      `INSERT INTO "wechat_push_message" ("dedup_key", "app_id", "msg_type", "event", "open_id", "wechat_created_at", "outcome")
       VALUES ($1, $2, $3, $4, $5, $6, '${PROCESSING}')
       ON CONFLICT ("dedup_key") DO NOTHING RETURNING "id"`,
      [record.dedupKey, record.appId, record.msgType, record.event, record.openId, record.wechatCreatedAt],
    );
    if (inserted[0]) return { claimed: true, id: String(inserted[0].id) };
    const takenOver = await this.sql.rows<{ id: string }>(
      `UPDATE "wechat_push_message" SET "claimed_at" = now()
       WHERE "dedup_key" = $1 AND "outcome" = '${PROCESSING}' AND "claimed_at" < now() - interval '${STALE_CLAIM_SECONDS} seconds'
       RETURNING "id"`,
      [record.dedupKey],
    );
    if (takenOver[0]) return { claimed: true, id: String(takenOver[0].id) };
    const existing = await this.sql.rows<{ outcome: string }>(`SELECT "outcome" FROM "wechat_push_message" WHERE "dedup_key" = $1`, [record.dedupKey]);
    // Gone between the statements (released by a failed attempt): the caller simply claims again.
    if (!existing[0]) return { claimed: false, state: 'busy' };
    return { claimed: false, state: existing[0].outcome === PROCESSING ? 'busy' : 'done' };
  }

  async complete(id: string, result: PushResult): Promise<void> {
    await this.sql.rows(`UPDATE "wechat_push_message" SET "outcome" = $2, "user_id" = $3, "detail" = $4, "handled_at" = now() WHERE "id" = $1`, [
      id,
      result.outcome,
      result.userId ?? null,
      result.detail ? JSON.stringify(result.detail) : null,
    ]);
  }

  /** After a failed attempt: the message counts as not handled, so WeChat's retry does the work. */
  async release(id: string): Promise<void> {
    await this.sql.rows(`DELETE FROM "wechat_push_message" WHERE "id" = $1 AND "outcome" = '${PROCESSING}'`, [id]);
  }
}
