import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Today's profile flow: uploaded avatars stored in PostgreSQL (every instance serves them), the
 * audit trail of WeChat's content checks, and the avatar that awaits its verdict.
 */
export class AvatarsAndContentChecks1764300000000 implements MigrationInterface {
  name = 'AvatarsAndContentChecks1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // The avatar URL sent to WeChat's image check; it becomes avatar_url when the verdict passes.
    await q.query(`ALTER TABLE "wechat_user" ADD COLUMN "avatar_pending_url" varchar(500)`);
    await q.query(`
      CREATE TABLE "avatar_image" (
        "id" varchar(32) PRIMARY KEY,
        "user_id" bigint NOT NULL REFERENCES "wechat_user" ("id") ON DELETE CASCADE,
        "content_type" varchar(32) NOT NULL,
        "etag" varchar(64) NOT NULL,
        "width" integer NOT NULL,
        "height" integer NOT NULL,
        "data" bytea NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX "idx_avatar_image_user_id" ON "avatar_image" ("user_id")`);
    await q.query(`
      CREATE TABLE "content_check" (
        "id" bigserial PRIMARY KEY,
        "user_id" bigint NOT NULL REFERENCES "wechat_user" ("id") ON DELETE CASCADE,
        "kind" varchar(16) NOT NULL CONSTRAINT "content_check_kind_check" CHECK ("kind" IN ('nickname', 'avatar')),
        "trace_id" varchar(128) NOT NULL,
        "verdict" varchar(16) NOT NULL CONSTRAINT "content_check_verdict_check" CHECK ("verdict" IN ('pending', 'pass', 'review', 'risky')),
        "label" varchar(32),
        "media_url" varchar(500),
        "avatar_id" varchar(32),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "decided_at" timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX "uq_content_check_trace_id" ON "content_check" ("trace_id")`);
    await q.query(`CREATE INDEX "idx_content_check_user_id" ON "content_check" ("user_id")`);
    // Every instance keeps recently served images in memory: tell them all at once when one goes.
    await q.query(`
      CREATE FUNCTION "avatar_image_deleted_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('avatar_image_deleted', OLD."id");
        RETURN OLD;
      END $$`);
    await q.query(`
      CREATE TRIGGER "avatar_image_deleted_notify" AFTER DELETE ON "avatar_image"
      FOR EACH ROW EXECUTE FUNCTION "avatar_image_deleted_notify"()`);
    // A deleted account keeps no pictures, whichever code path deletes it.
    await q.query(`
      CREATE FUNCTION "wechat_user_deleted_drop_avatars"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."deleted_at" IS NOT NULL AND OLD."deleted_at" IS NULL THEN
          NEW."avatar_pending_url" := NULL;
          DELETE FROM "avatar_image" WHERE "user_id" = NEW."id";
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER "wechat_user_deleted_drop_avatars" BEFORE UPDATE OF "deleted_at" ON "wechat_user"
      FOR EACH ROW EXECUTE FUNCTION "wechat_user_deleted_drop_avatars"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "wechat_user_deleted_drop_avatars" ON "wechat_user"`);
    await q.query(`DROP FUNCTION "wechat_user_deleted_drop_avatars"()`);
    await q.query(`DROP TRIGGER "avatar_image_deleted_notify" ON "avatar_image"`);
    await q.query(`DROP FUNCTION "avatar_image_deleted_notify"()`);
    await q.query(`DROP TABLE "content_check"`);
    await q.query(`DROP TABLE "avatar_image"`);
    await q.query(`ALTER TABLE "wechat_user" DROP COLUMN "avatar_pending_url"`);
  }
}
