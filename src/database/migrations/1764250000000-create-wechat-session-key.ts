import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Session keys are data, not cache: without Redis they are kept here, where no amount of other
 * users' traffic evicts them and an instance's memory does not grow with the number of users.
 * `session_key` holds an encrypted envelope (DATA_ENCRYPTION_KEY), never the key itself.
 */
export class CreateWechatSessionKey1764250000000 implements MigrationInterface {
  name = 'CreateWechatSessionKey1764250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "wechat_session_key" (
        "open_id" varchar(64) PRIMARY KEY,
        "session_key" varchar(200) NOT NULL,
        "expires_at" timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX "idx_wechat_session_key_expires_at" ON "wechat_session_key" ("expires_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "wechat_session_key"`);
  }
}
