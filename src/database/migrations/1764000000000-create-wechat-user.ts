import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWechatUser1764000000000 implements MigrationInterface {
  name = 'CreateWechatUser1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "wechat_user" (
        "id" SERIAL PRIMARY KEY,
        "nickname" varchar(64),
        "avatar_url" varchar(500),
        "gender" smallint CONSTRAINT "wechat_user_gender_check" CHECK ("gender" IN (0, 1, 2)),
        "country" varchar(100),
        "province" varchar(100),
        "city" varchar(100),
        "mobile" varchar(32),
        "open_id" varchar(64) NOT NULL,
        "union_id" varchar(64),
        "token_version" integer NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX "uq_wechat_user_open_id" ON "wechat_user" ("open_id")`);
    await q.query(`CREATE INDEX "idx_wechat_user_union_id" ON "wechat_user" ("union_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "wechat_user"`);
  }
}
