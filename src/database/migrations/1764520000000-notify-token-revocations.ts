import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A revocation (a raised `token_version`: logout, account deletion, a privacy event) is notified to
 * every instance at commit, as `<id>:<token_version>`, whichever code path or SQL raised it. Instances
 * also poll for revocations; the notification makes them refuse a revoked token at once rather than
 * at their next poll, which matters when the shared cache loses or rolls back the raised version.
 */
export class NotifyTokenRevocations1764520000000 implements MigrationInterface {
  name = 'NotifyTokenRevocations1764520000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "wechat_user_revoked_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('wechat_user_revoked', NEW."id" || ':' || NEW."token_version");
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "wechat_user_revoked_notify" AFTER UPDATE OF "token_version" ON "wechat_user"
      FOR EACH ROW WHEN (NEW."token_version" > OLD."token_version") EXECUTE FUNCTION "wechat_user_revoked_notify"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "wechat_user_revoked_notify" ON "wechat_user"`);
    await q.query(`DROP FUNCTION "wechat_user_revoked_notify"()`);
  }
}
