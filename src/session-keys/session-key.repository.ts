import { Injectable } from '@nestjs/common';
import { Sql } from '../database/sql';

/** The `wechat_session_key` table: each openid's last session_key (sealed), until it expires. */
@Injectable()
export class SessionKeyRepository {
  constructor(private readonly sql: Sql) {}

  async save(openId: string, sealedKey: string, expiresAt: Date): Promise<void> {
    await this.sql.prepared(
      'wechat_session_key_save',
      `INSERT INTO "wechat_session_key" ("open_id", "session_key", "expires_at") VALUES ($1, $2, $3)
       ON CONFLICT ("open_id") DO UPDATE SET "session_key" = EXCLUDED."session_key", "expires_at" = EXCLUDED."expires_at"`,
      [openId, sealedKey, expiresAt],
    );
  }

  async find(openId: string): Promise<string | undefined> {
    const rows = await this.sql.rows<{ session_key: string }>(`SELECT "session_key" FROM "wechat_session_key" WHERE "open_id" = $1 AND "expires_at" > now()`, [openId]);
    return rows[0]?.session_key;
  }

  async delete(openId: string): Promise<void> {
    await this.sql.rows(`DELETE FROM "wechat_session_key" WHERE "open_id" = $1`, [openId]);
  }

  /** Removes expired keys; returns how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.sql.rows(`DELETE FROM "wechat_session_key" WHERE "expires_at" <= now() RETURNING 1`);
    return rows.length;
  }
}
