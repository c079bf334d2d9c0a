import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/auth/authenticated-user';
import type { WechatAppSettings } from '../src/config/configuration';
import { MIGRATIONS } from '../src/database/migrations';
import { CreateWechatIdentity1764400000000, ONE_APP_PLACEHOLDER } from '../src/database/migrations/1764400000000-create-wechat-identity';
import { PHONE_NUMBER_PATH, STABLE_TOKEN_PATH } from '../src/sandbox/wechat-simulator';
import { startTestApp, TEST_APPID, TEST_JWT_SECRET, TEST_SECRET, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * In-place upgrade from the one-app schema: a database made by the migrations of the one-app version,
 * with its rows and its tokens, opened by this version.
 */

/** The one-app version's migrations: every one before the identities. */
const ONE_APP_MIGRATIONS = MIGRATIONS.slice(0, MIGRATIONS.indexOf(CreateWechatIdentity1764400000000));
const MEMBER: WechatAppSettings = { appId: 'wxMember00000000b', secret: 'member-secret-0123456789' };

/** A token exactly as the one-app version issued it: no `app` claim. */
const oneAppToken = (userId: number, ver: number) => jwt.sign({ sub: String(userId), ver }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });

async function migrate(db: TestDatabase, migrations: typeof MIGRATIONS): Promise<void> {
  const cli = new DataSource({ type: 'postgres', url: db.url, migrations });
  await cli.initialize();
  try {
    await cli.runMigrations({ transaction: 'each' });
  } finally {
    await cli.destroy();
  }
}

interface OldUser {
  id: number;
  open_id: string;
  union_id: string | null;
}

describe('in-place migration from the one-app schema', () => {
  let db: TestDatabase;
  let alice: OldUser;
  let bob: OldUser;
  let carol: OldUser;
  let aliceToken: string;
  let carolOldToken: string;

  before(async () => {
    db = await createTestDatabase();
    await migrate(db, ONE_APP_MIGRATIONS);
    // Rows as the one-app version wrote them.
    [alice] = await db.query<OldUser>(
      `INSERT INTO wechat_user (open_id, union_id, nickname, city, created_at, updated_at) VALUES ('oAliceOneApp000000000000001', 'uAliceUnion', 'Alice', 'Hangzhou', now() - interval '30 days', now() - interval '2 days') RETURNING id, open_id, union_id`,
    );
    [bob] = await db.query<OldUser>(`INSERT INTO wechat_user (open_id, deleted_at) VALUES ('oBobOneApp00000000000000002', now()) RETURNING id, open_id, union_id`);
    [carol] = await db.query<OldUser>(`INSERT INTO wechat_user (open_id, union_id) VALUES ('oCarolOneApp000000000000003', 'uCarolUnion') RETURNING id, open_id, union_id`);
    // A session key row of the one-app version (without Redis they are rows).
    await db.query(`INSERT INTO wechat_session_key (open_id, session_key, expires_at) VALUES ($1, 'sealed-by-the-one-app-version', now() + interval '1 day')`, [alice.open_id]);
    aliceToken = oneAppToken(alice.id, 0);
    carolOldToken = oneAppToken(carol.id, 0);
    // Carol logged out under the one-app version: her token version moved on.
    await db.query(`UPDATE wechat_user SET token_version = 1, revoked_at = now() WHERE id = $1`, [carol.id]);
  });
  after(async () => {
    await db?.drop();
  });

  describe('opened by this version with the one app it had', () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({ db });
    });
    after(async () => {
      await app?.close();
    });

    test('every user, deleted or not, becomes an identity of the configured app; rows are kept', async () => {
      const rows = await db.query<{ user_id: number; app_id: string; open_id: string; union_id: string | null }>('SELECT user_id, app_id, open_id, union_id FROM wechat_identity ORDER BY user_id');
      assert.deepEqual(rows, [
        { user_id: alice.id, app_id: TEST_APPID, open_id: alice.open_id, union_id: 'uAliceUnion' },
        { user_id: bob.id, app_id: TEST_APPID, open_id: bob.open_id, union_id: null },
        { user_id: carol.id, app_id: TEST_APPID, open_id: carol.open_id, union_id: 'uCarolUnion' },
      ]);
      assert.deepEqual(await db.query(`SELECT 1 FROM wechat_identity WHERE app_id = $1`, [ONE_APP_PLACEHOLDER]), [], 'no placeholder left');
      assert.deepEqual(await db.query('SELECT app_id, open_id FROM wechat_session_key'), [{ app_id: TEST_APPID, open_id: alice.open_id }], "the session key is the app's too");
      const users = await db.query<{ id: number; open_id: string; nickname: string | null }>('SELECT id, open_id, nickname FROM wechat_user ORDER BY id');
      assert.deepEqual(
        users.map((u) => u.open_id),
        [alice.open_id, bob.open_id, carol.open_id],
      );
      assert.equal(users[0].nickname, 'Alice');
      const applied = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
      assert.deepEqual(
        applied.map((m) => m.name),
        MIGRATIONS.map((m) => m.name),
      );
    });

    test('a token issued before the upgrade keeps working, as a token of the configured app', async () => {
      const me = await app.request('GET', '/users/me', { token: aliceToken });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.id, alice.id);
      assert.equal(me.body.openId, alice.open_id);
      assert.deepEqual(me.body.identities, [{ appId: TEST_APPID, openId: alice.open_id }]);

      // Its phone request goes out with that app's access token and Alice's openid there.
      app.wechat.reset();
      const { code } = app.wechat.issuePhoneCode({ openId: alice.open_id });
      const phone = await app.request('POST', '/wechat/phone', { token: aliceToken, body: { code } });
      assert.equal(phone.status, 200, phone.text);
      assert.equal((app.wechat.requests.find((r) => r.path === PHONE_NUMBER_PATH)!.body as any).openid, alice.open_id);
      assert.equal((app.wechat.requests.find((r) => r.path === STABLE_TOKEN_PATH)!.body as any).appid, TEST_APPID);
    });

    test('a token revoked before the upgrade stays refused', async () => {
      const refused = await app.request('GET', '/users/me', { token: carolOldToken });
      assert.equal(refused.status, 401, refused.text);
      assert.equal((await app.request('GET', '/users/me', { token: oneAppToken(carol.id, 1) })).status, 200);
    });

    test('logins of existing openids find their users; a deleted one is reactivated', async () => {
      const a = await app.login({ openId: alice.open_id }, 'code');
      assert.equal(a.status, 200, a.text);
      assert.equal(a.body.user.id, alice.id);
      assert.equal(a.body.user.nickname, 'Alice', 'the stored profile is kept');
      assert.equal((jwt.decode(a.body.token) as any).app, TEST_APPID);
      const b = await app.login({ openId: bob.open_id }, 'code');
      assert.equal(b.status, 200, b.text);
      assert.equal(b.body.user.id, bob.id);
      assert.equal(Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM wechat_identity'))[0].n), 3, 'no identity added');
    });

    test('a user written by a one-app instance still running (rolling upgrade) is adopted by its next login, and found by pushes before', async () => {
      const [dave] = await db.query<OldUser>(`INSERT INTO wechat_user (open_id, union_id) VALUES ('oDaveOneApp0000000000000004', 'uDaveUnion') RETURNING id, open_id, union_id`);
      const me = await app.request('GET', '/users/me', { token: oneAppToken(dave.id, 0) });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.openId, dave.open_id, 'no identity yet: the seed openid');
      const login = await app.login({ openId: dave.open_id }, 'code');
      assert.equal(login.status, 200, login.text);
      assert.equal(login.body.user.id, dave.id);
      assert.deepEqual(login.body.user.identities, [{ appId: TEST_APPID, openId: dave.open_id }]);
    });
  });

  describe('then opened with a second app (listed first)', () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({ db, apps: [MEMBER, { appId: TEST_APPID, secret: TEST_SECRET }] });
    });
    after(async () => {
      await app?.close();
    });

    test("a token of the one-app version is still a token of the app its user's first identity is of", async () => {
      const me = await app.request('GET', '/users/me', { token: aliceToken });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.openId, alice.open_id);
    });

    test('the person logs in to the new app: linked to the migrated account by unionid', async () => {
      const member = await app.login({ appId: MEMBER.appId, unionId: 'uAliceUnion' }, 'code');
      assert.equal(member.status, 200, member.text);
      assert.equal(member.body.user.id, alice.id);
      assert.notEqual(member.body.user.openId, alice.open_id);
      assert.deepEqual(member.body.user.identities, [
        { appId: TEST_APPID, openId: alice.open_id },
        { appId: MEMBER.appId, openId: member.body.user.openId },
      ]);
      assert.equal((await db.query<{ open_id: string }>('SELECT open_id FROM wechat_user WHERE id = $1', [alice.id]))[0].open_id, alice.open_id, 'the seed openid stays');
      const old = await app.request('GET', '/users/me', { token: aliceToken });
      assert.equal(old.body.openId, alice.open_id, 'the old token is still of the first app');
    });
  });
});

describe('upgraded with the apps in the wrong order (the new app listed first)', () => {
  test('old users are adopted into the wrong app, yet their logins find their accounts and gain the right identity', async () => {
    const db = await createTestDatabase();
    try {
      await migrate(db, ONE_APP_MIGRATIONS);
      const [erin] = await db.query<OldUser>(`INSERT INTO wechat_user (open_id, nickname) VALUES ('oErinOneApp0000000000000005', 'Erin') RETURNING id, open_id, union_id`);
      const app = await startTestApp({ db, apps: [MEMBER, { appId: TEST_APPID, secret: TEST_SECRET }] });
      try {
        assert.deepEqual(await db.query('SELECT app_id FROM wechat_identity WHERE user_id = $1', [erin.id]), [{ app_id: MEMBER.appId }], 'adopted into the first listed app');
        const login = await app.login({ appId: TEST_APPID, openId: erin.open_id }, 'code');
        assert.equal(login.status, 200, login.text);
        assert.equal(login.body.user.id, erin.id, 'the same account');
        assert.equal(login.body.user.nickname, 'Erin');
        assert.equal(login.body.user.openId, erin.open_id);
        assert.deepEqual(
          login.body.user.identities.map((i: { appId: string }) => i.appId),
          [MEMBER.appId, TEST_APPID],
        );
        assert.equal(Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM wechat_user'))[0].n), 1, 'no second user');
      } finally {
        await app.close();
      }
    } finally {
      await db.drop();
    }
  });
});

describe('migrations run by the TypeORM CLI (no app settings): the placeholder is resolved at the first start', () => {
  test("identities recorded under the placeholder become the first configured app's", async () => {
    const db = await createTestDatabase();
    try {
      await migrate(db, ONE_APP_MIGRATIONS);
      await db.query(`INSERT INTO wechat_user (open_id) VALUES ('oCliUser0000000000000000001')`);
      await migrate(db, MIGRATIONS);
      assert.deepEqual(await db.query('SELECT app_id, open_id FROM wechat_identity'), [{ app_id: ONE_APP_PLACEHOLDER, open_id: 'oCliUser0000000000000000001' }]);
      const app = await startTestApp({ db });
      try {
        assert.deepEqual(await db.query('SELECT app_id, open_id FROM wechat_identity'), [{ app_id: TEST_APPID, open_id: 'oCliUser0000000000000000001' }]);
        const login = await app.login({ openId: 'oCliUser0000000000000000001' }, 'code');
        assert.deepEqual(login.body.user.identities, [{ appId: TEST_APPID, openId: 'oCliUser0000000000000000001' }]);
      } finally {
        await app.close();
      }
    } finally {
      await db.drop();
    }
  });
});
