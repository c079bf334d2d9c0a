import { Injectable } from '@nestjs/common';
import { Sql } from '../database/sql';

/** A session key sealed for its row, and when it stops being of use. */
export interface SealedSessionKey {
  sealed: string;
  expiresAt: Date;
}

/**
 * The upsert of an identity's key as one step (a CTE) of the login statement, so that the key and the
 * login land together or not at all, in one round trip. `from` names a CTE with one row when the
 * identity logged in (none: nothing is written); the others are the statement's placeholders.
 */
export function saveSessionKeyStep(from: string, p: { appId: string; openId: string; sealed: string; expiresAt: string }): string {
  return `INSERT INTO "wechat_session_key" ("app_id", "open_id", "session_key", "expires_at")
    SELECT ${p.appId}, ${p.openId}, ${p.sealed}::text, ${p.expiresAt}::timestamptz FROM "${from}"
    ON CONFLICT ("app_id", "open_id") DO UPDATE SET "session_key" = EXCLUDED."session_key", "expires_at" = EXCLUDED."expires_at"`;
}

/**
 * The `wechat_session_key` table: each identity's (app + openid) last session_key (sealed), until it
 * expires. Written by the login statement (see saveSessionKeyStep); read and removed here.
 */
@Injectable()
export class SessionKeyRepository {
  constructor(private readonly sql: Sql) {}

  async find(appId: string, openId: string): Promise<string | undefined> {
    const rows = await this.sql.rows<{ session_key: string }>(`SELECT "session_key" FROM "wechat_session_key" WHERE "app_id" = $1 AND "open_id" = $2 AND "expires_at" > now()`, [appId, openId]);
    return rows[0]?.session_key;
  }

  async delete(appId: string, openId: string): Promise<void> {
    await this.sql.rows(`DELETE FROM "wechat_session_key" WHERE "app_id" = $1 AND "open_id" = $2`, [appId, openId]);
  }

  /** Removes expired keys; returns how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.sql.rows(`DELETE FROM "wechat_session_key" WHERE "expires_at" <= now() RETURNING 1`);
    return rows.length;
  }
}
