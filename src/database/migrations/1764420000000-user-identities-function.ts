import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `wechat_user_identities(user_id)`: a user's identities (oldest first) as the JSON the service caches
 * with its row, read with a snapshot of its own.
 *
 * Why a function: an UPDATE of `wechat_user` that waited for another transaction's lock on the row
 * (a first login in another app inserts an identity and updates the user in one transaction) builds
 * the new row from the version that transaction committed, but a plain subquery in its RETURNING
 * still reads `wechat_identity` as of the statement's start, without the identity committed with
 * it. The record would carry the newer revision and the older identities, and the cache, which keeps
 * the newest revision, would keep that. A VOLATILE function takes a fresh snapshot for each query
 * it runs (READ COMMITTED), so it sees every identity committed before the row lock was granted.
 */
export class UserIdentitiesFunction1764420000000 implements MigrationInterface {
  name = 'UserIdentitiesFunction1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "wechat_user_identities"("user_id" bigint) RETURNS json LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RETURN (SELECT COALESCE(json_agg(json_build_object('appId', i."app_id", 'openId', i."open_id") ORDER BY i."id"), '[]'::json)
                FROM "wechat_identity" i WHERE i."user_id" = "wechat_user_identities"."user_id");
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION "wechat_user_identities"(bigint)`);
  }
}
