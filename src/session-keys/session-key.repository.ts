import { Injectable } from '@nestjs/common';
import { Sql } from '../database/sql';

/** The `wechat_session_key` table: each identity's (app + openid) last session_key (sealed), until it expires. */
@Injectable()
export class SessionKeyRepository {
  constructor(private readonly sql: Sql) {}

  async save(appId: string, openId: string, sealedKey: string, expiresAt: Date): Promise<void> {
    await this.sql.prepared(
      'wechat_session_key_save_app',
      `INSERT INTO "wechat_session_key" ("app_id", "open_id", "session_key", "expires_at") VALUES ($1, $2, $3, $4)
       ON CONFLICT ("app_id", "open_id") DO UPDATE SET "session_key" = EXCLUDED."session_key", "expires_at" = EXCLUDED."expires_at"`,
      [appId, openId, sealedKey, expiresAt],
    );
  }

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
