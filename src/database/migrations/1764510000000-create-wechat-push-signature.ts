import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Push signatures already used, each with the message it came with. `signature` covers the query
 * (token, timestamp, nonce) but not the body, so a query captured from a log could otherwise carry
 * any plain-mode message for as long as its timestamp is fresh. Rows outlive that window and are
 * then deleted by the service.
 */
export class CreateWechatPushSignature1764510000000 implements MigrationInterface {
  name = 'CreateWechatPushSignature1764510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "wechat_push_signature" (
        "app_id" varchar(64) NOT NULL,
        "signature" varchar(64) NOT NULL,
        "message_sha256" char(64) NOT NULL,
        "seen_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("app_id", "signature")
      )`);
    await q.query(`CREATE INDEX "idx_wechat_push_signature_seen_at" ON "wechat_push_signature" ("seen_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "wechat_push_signature"`);
  }
}
