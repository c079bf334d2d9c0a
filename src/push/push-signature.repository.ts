import { Injectable } from '@nestjs/common';
import { Sql } from '../database/sql';
import { PUSH_MAX_AGE_SECONDS } from './push-request-verifier';

/** Longer than any signature stays fresh: its timestamp may lie the window ahead of now, and it is good the window after that. */
const KEPT_SECONDS = 3 * PUSH_MAX_AGE_SECONDS;

/** The `wechat_push_signature` table: each push query's `signature` with the one message it may carry. */
@Injectable()
export class PushSignatures {
  constructor(private readonly sql: Sql) {}

  /**
   * Binds `signature` to `messageSha256` the first time it is seen; true when it is bound to this
   * message (first use, or WeChat retrying the same message with the same query), false when it came
   * before with another. Rows past any freshness window are deleted on the way.
   */
  async bind(appId: string, signature: string, messageSha256: string): Promise<boolean> {
    const [row] = await this.sql.rows<{ message_sha256: string }>(
      `WITH "expired" AS (DELETE FROM "wechat_push_signature" WHERE "seen_at" < now() - interval '${KEPT_SECONDS} seconds')
       INSERT INTO "wechat_push_signature" ("app_id", "signature", "message_sha256") VALUES ($1, $2, $3)
       ON CONFLICT ("app_id", "signature") DO UPDATE SET "seen_at" = "wechat_push_signature"."seen_at"
       RETURNING "message_sha256"`,
      [appId, signature, messageSha256],
    );
    return row.message_sha256 === messageSha256;
  }
}
