import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * - `id` becomes 64-bit: every re-login's `INSERT … ON CONFLICT` draws a sequence value, so a 32-bit
 *   serial runs out after ~2.1 billion logins, not users. Rows and ids are kept.
 * - `revision` counts every change of a row (a trigger bumps it on each UPDATE, whoever writes it):
 *   caches keep a user only if it is newer than what they hold, so a stale read never overwrites a
 *   newer write.
 * - `revoked_at` marks when tokens were last revoked (logout, account deletion, privacy events):
 *   every instance follows recent revocations from the database, so a cache that loses or rolls
 *   back a value cannot bring a revoked token back.
 */
export class HardenWechatUser1764100000000 implements MigrationInterface {
  name = 'HardenWechatUser1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "wechat_user" ALTER COLUMN "id" TYPE bigint`);
    await q.query(`ALTER SEQUENCE "wechat_user_id_seq" AS bigint`);
    await q.query(`ALTER TABLE "wechat_user" ADD COLUMN "revision" bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "wechat_user" ADD COLUMN "revoked_at" timestamptz`);
    await q.query(`CREATE INDEX "idx_wechat_user_revoked_at" ON "wechat_user" ("revoked_at") WHERE "revoked_at" IS NOT NULL`);
    await q.query(`
      CREATE FUNCTION "wechat_user_bump_revision"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW."revision" := OLD."revision" + 1;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER "wechat_user_revision" BEFORE UPDATE ON "wechat_user" FOR EACH ROW EXECUTE FUNCTION "wechat_user_bump_revision"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "wechat_user_revision" ON "wechat_user"`);
    await q.query(`DROP FUNCTION "wechat_user_bump_revision"()`);
    await q.query(`DROP INDEX "idx_wechat_user_revoked_at"`);
    await q.query(`ALTER TABLE "wechat_user" DROP COLUMN "revoked_at"`);
    await q.query(`ALTER TABLE "wechat_user" DROP COLUMN "revision"`);
    await q.query(`ALTER SEQUENCE "wechat_user_id_seq" AS integer`);
    await q.query(`ALTER TABLE "wechat_user" ALTER COLUMN "id" TYPE integer`);
  }
}
