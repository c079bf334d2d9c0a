import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationCipher } from '../../data-protection/migration-cipher';
import { MOBILE_PURPOSE, sealMobile } from '../../data-protection/mobile-number';

const BATCH = 500;

/**
 * Phone numbers at rest: `mobile` holds an AES-256-GCM envelope (with its key id) instead of the
 * number, `mobile_hash` a keyed hash for lookups, `mobile_verified_at` when WeChat gave it. Numbers
 * already stored are encrypted in place; every row is kept. The key comes from whoever runs the
 * migration (see data-protection/migration-cipher.ts): a database without stored numbers needs none.
 */
export class EncryptMobile1764310000000 implements MigrationInterface {
  name = 'EncryptMobile1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "wechat_user" ALTER COLUMN "mobile" TYPE varchar(255)`);
    await q.query(`ALTER TABLE "wechat_user" ADD COLUMN "mobile_hash" varchar(64), ADD COLUMN "mobile_verified_at" timestamptz`);
    await q.query(`CREATE INDEX "idx_wechat_user_mobile_hash" ON "wechat_user" ("mobile_hash")`);
    // Clearing the number (account deletion, a privacy event) clears what derives from it too.
    await q.query(`
      CREATE FUNCTION "wechat_user_mobile_cleared"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."mobile" IS NULL THEN
          NEW."mobile_hash" := NULL;
          NEW."mobile_verified_at" := NULL;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER "wechat_user_mobile_cleared" BEFORE UPDATE OF "mobile" ON "wechat_user"
      FOR EACH ROW EXECUTE FUNCTION "wechat_user_mobile_cleared"()`);

    const plain = (await q.query(`SELECT count(*)::int AS n FROM "wechat_user" WHERE "mobile" IS NOT NULL AND "mobile" NOT LIKE 'v1.%'`)) as { n: number }[];
    if (plain[0].n === 0) return;
    const cipher = migrationCipher(q.connection);
    if (!cipher) throw new Error(`${plain[0].n} stored phone numbers must be encrypted, and this migration was given no key: run it with DATA_ENCRYPTION_KEY set`);
    for (let lastId = 0; ;) {
      const rows = (await q.query(`SELECT "id", "mobile" FROM "wechat_user" WHERE "id" > $1 AND "mobile" IS NOT NULL AND "mobile" NOT LIKE 'v1.%' ORDER BY "id" LIMIT ${BATCH}`, [lastId])) as {
        id: number | string;
        mobile: string;
      }[];
      if (rows.length === 0) break;
      for (const row of rows) {
        const sealed = sealMobile(cipher, row.mobile);
        // updated_at stays: encrypting is not a change of the user's data.
        await q.query(`UPDATE "wechat_user" SET "mobile" = $2, "mobile_hash" = $3 WHERE "id" = $1`, [row.id, sealed.ciphertext, sealed.lookupHash]);
      }
      lastId = Number(rows[rows.length - 1].id);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const rows = (await q.query(`SELECT "id", "mobile" FROM "wechat_user" WHERE "mobile" LIKE 'v1.%'`)) as { id: number; mobile: string }[];
    const cipher = rows.length ? migrationCipher(q.connection) : undefined;
    if (rows.length && !cipher) throw new Error('decrypting stored phone numbers needs DATA_ENCRYPTION_KEY');
    await q.query(`DROP TRIGGER "wechat_user_mobile_cleared" ON "wechat_user"`);
    await q.query(`DROP FUNCTION "wechat_user_mobile_cleared"()`);
    for (const row of rows) await q.query(`UPDATE "wechat_user" SET "mobile" = $2 WHERE "id" = $1`, [row.id, cipher!.open(row.mobile, MOBILE_PURPOSE)]);
    await q.query(`DROP INDEX "idx_wechat_user_mobile_hash"`);
    await q.query(`ALTER TABLE "wechat_user" DROP COLUMN "mobile_hash", DROP COLUMN "mobile_verified_at"`);
    await q.query(`ALTER TABLE "wechat_user" ALTER COLUMN "mobile" TYPE varchar(32)`);
  }
}
