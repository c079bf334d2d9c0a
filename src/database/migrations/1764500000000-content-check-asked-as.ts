import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each content check records the identity it was asked as (the mini program and the user's openid
 * there), so that only a verdict pushed by that app, for that openid, decides it. Rows from before
 * stay NULL: for them the looser rule applies (the user has an identity in the verdict's app).
 */
export class ContentCheckAskedAs1764500000000 implements MigrationInterface {
  name = 'ContentCheckAskedAs1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "content_check" ADD COLUMN "app_id" varchar(64), ADD COLUMN "open_id" varchar(64)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "content_check" DROP COLUMN "open_id", DROP COLUMN "app_id"`);
  }
}
