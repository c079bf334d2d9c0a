import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ONE_APP_PLACEHOLDER } from './1764400000000-create-wechat-identity';

/**
 * Session keys (rows of `wechat_session_key` when there is no Redis) belong to an identity, so
 * they are keyed by app and openid. The one-app version's rows go to the placeholder app, resolved
 * at start with the identities (`adoptOneAppIdentities`).
 */
export class SessionKeysPerApp1764410000000 implements MigrationInterface {
  name = 'SessionKeysPerApp1764410000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "wechat_session_key" ADD COLUMN "app_id" varchar(64) NOT NULL DEFAULT '${ONE_APP_PLACEHOLDER}'`);
    await q.query(`ALTER TABLE "wechat_session_key" ALTER COLUMN "app_id" DROP DEFAULT`);
    await q.query(`ALTER TABLE "wechat_session_key" DROP CONSTRAINT "wechat_session_key_pkey"`);
    await q.query(`ALTER TABLE "wechat_session_key" ADD PRIMARY KEY ("app_id", "open_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    // One key per openid again: the newest wins.
    await q.query(`DELETE FROM "wechat_session_key" k USING "wechat_session_key" j WHERE k."open_id" = j."open_id" AND (k."expires_at", k."app_id") < (j."expires_at", j."app_id")`);
    await q.query(`ALTER TABLE "wechat_session_key" DROP CONSTRAINT "wechat_session_key_pkey"`);
    await q.query(`ALTER TABLE "wechat_session_key" DROP COLUMN "app_id"`);
    await q.query(`ALTER TABLE "wechat_session_key" ADD PRIMARY KEY ("open_id")`);
  }
}
