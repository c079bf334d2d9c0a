import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { Client } from 'pg';
import type { WechatAppSettings } from '../src/config/configuration';
import { buildWechatPush, type PushCredentials } from '../src/sandbox/wechat-push-sender';
import { CHECK_SESSION_PATH, JSCODE2SESSION_PATH, PHONE_NUMBER_PATH, STABLE_TOKEN_PATH } from '../src/sandbox/wechat-simulator';
import { eventually } from './support/client-support';
import { type HttpAnswer, startTestApp, TEST_JWT_SECRET, type TestApp } from './support/test-app';
import type { WechatUserRow } from './support/test-database';

/** Several mini programs, one account: identities per app, linked by unionid (README › Several mini programs). */

const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const STORE: WechatAppSettings = { appId: 'wxStore000000000a', secret: 'store-secret-0123456789', pushToken: 'storePushToken1', pushAesKey: AES_KEY };
const MEMBER: WechatAppSettings = { appId: 'wxMember00000000b', secret: 'member-secret-0123456789', pushToken: 'memberPushToken2', pushAesKey: AES_KEY.split('').reverse().join('') };
const STAFF: WechatAppSettings = { appId: 'wxStaff000000000c', secret: 'staff-secret-0123456789' };

interface IdentityRow {
  id: number;
  user_id: number;
  app_id: string;
  open_id: string;
  union_id: string | null;
  created_at: Date;
  last_login_at: Date;
}

let unionSeq = 0;
const newUnionId = () => `oUnion${process.pid}x${Date.now().toString(36)}x${unionSeq++}`;

function assertError(answer: HttpAnswer, status: number, code: string, label = ''): void {
  assert.equal(answer.status, status, `${label} ${answer.text}`);
  assert.deepEqual(Object.keys(answer.body ?? {}).sort(), ['code', 'message', 'statusCode'], `${label} ${answer.text}`);
  assert.equal(answer.body.code, code, `${label} ${answer.text}`);
}

function ok(answer: HttpAnswer, label = ''): any {
  assert.equal(answer.status, 200, `${label} ${answer.text}`);
  return answer.body;
}

describe('several mini programs: two apps', () => {
  let app: TestApp;
  const login = (appId: string, input: Record<string, unknown> = {}, parts: 'all' | 'code' = 'all') => app.login({ appId, ...input }, parts);
  const identities = (userId: number) => app.db.query<IdentityRow>('SELECT * FROM wechat_identity WHERE user_id = $1 ORDER BY id', [userId]);
  const userRow = async (id: number) => (await app.db.query<WechatUserRow>('SELECT * FROM wechat_user WHERE id = $1', [id]))[0];
  const count = async (table: string) => Number((await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

  before(async () => {
    app = await startTestApp({ apps: [STORE, MEMBER] });
  });
  after(async () => {
    await app?.close();
  });

  test('login needs appId when several apps are configured, refuses an unknown one, and asks WeChat nothing then', async () => {
    app.wechat.reset();
    const users = await count('wechat_user');
    const issued = app.wechat.issueLoginCode({ appId: STORE.appId });
    const missing = await app.request('POST', '/wechat/login', { body: { code: issued.code } });
    assertError(missing, 400, 'VALIDATION_FAILED');
    assert.match(missing.body.message, /appId/);
    const unknown = await app.request('POST', '/wechat/login', { body: { code: issued.code, appId: 'wxNotOurs0000000' } });
    assertError(unknown, 400, 'VALIDATION_FAILED');
    assert.match(unknown.body.message, /appId/);
    assertError(await app.request('POST', '/wechat/login', { body: { code: issued.code, appId: '' } }), 400, 'VALIDATION_FAILED');
    assertError(await app.request('POST', '/wechat/login', { body: { code: issued.code, appId: 42 } }), 400, 'VALIDATION_FAILED');
    assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 0, 'no code was spent');
    assert.equal(await count('wechat_user'), users);
    // The code still works with its app.
    ok(await app.request('POST', '/wechat/login', { body: { code: issued.code, appId: STORE.appId } }));
  });

  test('a code of one app sent with the other appId is refused (WeChat does not know it there), and nothing is written', async () => {
    app.wechat.reset();
    const [users, ids] = [await count('wechat_user'), await count('wechat_identity')];
    const issued = app.wechat.issueLoginCode({ appId: STORE.appId, unionId: newUnionId() });
    const crossed = await app.request('POST', '/wechat/login', { body: { code: issued.code, appId: MEMBER.appId } });
    assertError(crossed, 401, 'WECHAT_CODE_INVALID');
    const asked = app.wechat.requests.filter((r) => r.path === JSCODE2SESSION_PATH);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].query.appid, MEMBER.appId);
    assert.equal(asked[0].query.secret, MEMBER.secret, "the other app's own secret");
    assert.equal(await count('wechat_user'), users);
    assert.equal(await count('wechat_identity'), ids);
    // encryptedData of one app with a code of the other: its watermark names the wrong app.
    const member = app.wechat.issueLoginCode({ appId: MEMBER.appId });
    const mixed = await app.request('POST', '/wechat/login', {
      body: { code: member.code, appId: MEMBER.appId, encryptedData: issued.encryptedData, iv: issued.iv },
    });
    assert.equal(mixed.status, 400, mixed.text);
  });

  test("one person, two apps: one user with an identity per app, linked by unionid; openId is the caller app's", async () => {
    const unionId = newUnionId();
    const first = ok(await login(STORE.appId, { unionId, nickName: 'Shopper' }));
    // Code only: WeChat gives the unionid with the session (apps bound to one Open Platform account).
    const second = ok(await login(MEMBER.appId, { unionId }, 'code'));
    assert.equal(second.user.id, first.user.id, 'the same account');
    const storeOpenId = first.user.openId;
    const memberOpenId = second.user.openId;
    assert.notEqual(memberOpenId, storeOpenId, 'one openid per app');
    assert.deepEqual(second.user.identities, [
      { appId: STORE.appId, openId: storeOpenId },
      { appId: MEMBER.appId, openId: memberOpenId },
    ]);
    assert.equal(second.user.unionId, unionId);
    assert.equal(second.user.nickname, 'Shopper');

    // Tokens name their app; /users/me shows the caller's openid in that app.
    assert.equal((jwt.decode(first.token) as any).app, STORE.appId);
    assert.equal((jwt.decode(second.token) as any).app, MEMBER.appId);
    const meStore = ok(await app.request('GET', '/users/me', { token: first.token }));
    const meMember = ok(await app.request('GET', '/users/me', { token: second.token }));
    assert.equal(meStore.openId, storeOpenId);
    assert.equal(meMember.openId, memberOpenId);
    assert.deepEqual(meStore.identities, second.user.identities);

    // Rows: the seed openid stays the first identity's.
    const row = await userRow(first.user.id);
    assert.equal(row.open_id, storeOpenId);
    const rows = await identities(first.user.id);
    assert.deepEqual(
      rows.map((r) => [r.app_id, r.open_id, r.union_id]),
      [
        [STORE.appId, storeOpenId, unionId],
        [MEMBER.appId, memberOpenId, unionId],
      ],
    );

    // Re-logins find the identity; a later login in either app keeps one user.
    const again = ok(await login(MEMBER.appId, { openId: memberOpenId }));
    assert.equal(again.user.id, first.user.id);
    assert.equal(again.user.openId, memberOpenId);
    assert.equal((await identities(first.user.id)).length, 2);
  });

  test('without a unionid, a first login in another app is another user', async () => {
    const a = ok(await login(STORE.appId));
    const b = ok(await login(MEMBER.appId));
    assert.notEqual(a.user.id, b.user.id);
    assert.deepEqual(b.user.identities, [{ appId: MEMBER.appId, openId: b.user.openId }]);
  });

  test('concurrent first logins of one person in both apps make one user (ten people at once, each twice per app)', async () => {
    const people = Array.from({ length: 10 }, () => newUnionId());
    const openIds = new Map(people.flatMap((u) => [STORE.appId, MEMBER.appId].map((appId) => [`${appId}/${u}`, app.wechat.openIdOfPerson(appId, u)] as const)));
    const attempts = people.flatMap((unionId) => [STORE.appId, MEMBER.appId, STORE.appId, MEMBER.appId].map((appId) => ({ appId, unionId, openId: openIds.get(`${appId}/${unionId}`)! })));
    const answers = await Promise.all(attempts.map((a) => login(a.appId, { unionId: a.unionId, openId: a.openId })));
    for (const answer of answers) ok(answer, 'every login succeeds');
    for (const unionId of people) {
      const ids = new Set(answers.filter((_, i) => attempts[i].unionId === unionId).map((a) => a.body.user.id));
      assert.equal(ids.size, 1, `one user for ${unionId}`);
      const [userId] = ids;
      const rows = await identities(userId);
      assert.deepEqual(rows.map((r) => r.app_id).sort(), [MEMBER.appId, STORE.appId], 'one identity per app');
      const owners = await app.db.query<{ n: number }>('SELECT count(DISTINCT user_id)::int AS n FROM wechat_identity WHERE union_id = $1', [unionId]);
      assert.equal(owners[0].n, 1);
      assert.equal((await userRow(userId)).open_id, rows[0].open_id, "the seed openid is the first identity's");
    }
  });

  test('access tokens are per app: a burst in both apps makes one upstream token call per app, with its own credentials', async () => {
    // Fresh apps, so no token is cached yet.
    const fresh = await startTestApp({ apps: [STORE, MEMBER] });
    try {
      const unionId = newUnionId();
      const a = ok(await fresh.login({ appId: STORE.appId, unionId }));
      const b = ok(await fresh.login({ appId: MEMBER.appId, unionId }));
      fresh.wechat.reset();
      fresh.wechat.tokenDelayMs = 150; // the burst overlaps the token calls
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => fresh.request('GET', '/wechat/session', { token: i % 2 ? b.token : a.token })));
      for (const answer of answers) assert.deepEqual(ok(answer), { valid: true });
      const tokenCalls = fresh.wechat.requests.filter((r) => r.path === STABLE_TOKEN_PATH);
      assert.deepEqual(tokenCalls.map((r) => (r.body as any).appid).sort(), [MEMBER.appId, STORE.appId], 'one stable_token call per app');
      for (const call of tokenCalls) assert.equal((call.body as any).secret, call.body && (call.body as any).appid === STORE.appId ? STORE.secret : MEMBER.secret);
      assert.equal(fresh.wechat.accessTokensIssuedFor(STORE.appId), 1);
      assert.equal(fresh.wechat.accessTokensIssuedFor(MEMBER.appId), 1);
      // Each checksession went with its app's token and its app's openid.
      const checks = fresh.wechat.requests.filter((r) => r.path === CHECK_SESSION_PATH);
      assert.equal(checks.length, 12);
      assert.deepEqual(new Set(checks.map((r) => r.query.openid)), new Set([a.user.openId, b.user.openId]));

      // A token WeChat revokes in one app is replaced there only.
      fresh.wechat.reset();
      fresh.wechat.revokeAccessTokens();
      fresh.wechat.tokenDelayMs = 0;
      ok(await fresh.request('GET', '/wechat/session', { token: b.token }));
      assert.deepEqual(
        fresh.wechat.requests.filter((r) => r.path === STABLE_TOKEN_PATH).map((r) => (r.body as any).appid),
        [MEMBER.appId],
      );
    } finally {
      await fresh.close();
    }
  });

  test("phone numbers and session checks act on the identity of the token's app", async () => {
    const unionId = newUnionId();
    const a = ok(await login(STORE.appId, { unionId }));
    const b = ok(await login(MEMBER.appId, { unionId }));
    const memberOpenId = b.user.openId;

    // A code of the member app, for its openid there: redeemed with the member token.
    app.wechat.reset();
    const code = app.wechat.issuePhoneCode({ appId: MEMBER.appId, openId: memberOpenId, phoneNumber: '13900001111' }).code;
    const phone = ok(await app.request('POST', '/wechat/phone', { token: b.token, body: { code } }));
    assert.equal(phone.phoneNumber, '13900001111');
    const redeemed = app.wechat.requests.filter((r) => r.path === PHONE_NUMBER_PATH);
    assert.equal((redeemed[0].body as any).openid, memberOpenId, "the caller's openid in the member app");
    assert.equal(ok(await app.request('GET', '/users/me', { token: a.token })).mobile, '13900001111', 'one account: the store app sees it too');

    // The same kind of code sent with the store token: the store app does not know it.
    const other = app.wechat.issuePhoneCode({ appId: MEMBER.appId, openId: memberOpenId }).code;
    assertError(await app.request('POST', '/wechat/phone', { token: a.token, body: { code: other } }), 400, 'PHONE_CODE_INVALID');

    // Legacy encrypted data: decrypted with the session key of the token's app.
    const legacy = app.wechat.encryptPhoneForSession(memberOpenId, '13700002222', MEMBER.appId);
    assert.equal(ok(await app.request('POST', '/wechat/phone', { token: b.token, body: legacy })).phoneNumber, '13700002222');
    assert.equal((await app.request('POST', '/wechat/phone', { token: a.token, body: legacy })).status, 400, "the store app's session key cannot open it");

    // Session: WeChat forgets the member session only.
    app.wechat.expireSession(memberOpenId, MEMBER.appId);
    assert.deepEqual(ok(await app.request('GET', '/wechat/session', { token: b.token })), { valid: false });
    assert.deepEqual(ok(await app.request('GET', '/wechat/session', { token: a.token })), { valid: true });
  });

  test("content checks run as the token's app, for the user's openid there; the image verdict comes back on that app's push route", async () => {
    const unionId = newUnionId();
    ok(await login(STORE.appId, { unionId }));
    const b = ok(await login(MEMBER.appId, { unionId }, 'code'));
    app.wechat.reset();
    const patched = ok(await app.request('PATCH', '/users/me', { token: b.token, body: { nickname: 'Checked Name', avatarUrl: 'https://cdn.example.com/a.png' } }));
    assert.equal(patched.openId, b.user.openId);
    assert.equal(patched.nickname, 'Checked Name');
    for (const path of ['/wxa/msg_sec_check', '/wxa/media_check_async']) {
      const check = app.wechat.requests.find((r) => r.path === path);
      assert.ok(check, `${path} was called`);
      assert.equal((check.body as { openid: string }).openid, b.user.openId, `${path}: the member openid`);
      assert.equal(app.wechat.appOfAccessToken(check.query.access_token), MEMBER.appId, `${path}: the member app's access token`);
    }
    // The verdict (unfetchable URL: risky) is pushed by the member app to its own route, and handled.
    for (const deadline = Date.now() + 10_000; ;) {
      const rows = await app.db.query<{ app_id: string; outcome: string }>(`SELECT app_id, outcome FROM wechat_push_message WHERE event = 'wxa_media_check' AND user_id = $1`, [b.user.id]);
      if (rows.length) {
        assert.deepEqual(
          rows.map((r) => r.app_id),
          [MEMBER.appId],
        );
        assert.match(rows[0].outcome, /^avatar_/);
        break;
      }
      assert.ok(Date.now() < deadline, 'the verdict push never came');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  test('logout and account deletion act on the account: the tokens of every app stop working', async () => {
    const unionId = newUnionId();
    const a = ok(await login(STORE.appId, { unionId }));
    const b = ok(await login(MEMBER.appId, { unionId }));
    assert.equal((await app.request('POST', '/auth/logout', { token: b.token })).status, 204);
    assertError(await app.request('GET', '/users/me', { token: a.token }), 401, 'UNAUTHORIZED');

    const a2 = ok(await login(STORE.appId, { unionId }));
    assert.equal(a2.user.id, a.user.id);
    assert.equal((await app.request('DELETE', '/users/me', { token: a2.token })).status, 204);
    const rows = await identities(a.user.id);
    assert.equal(rows.length, 2, 'the identities stay, so a login reactivates the account');
    assert.deepEqual(
      rows.map((r) => r.union_id),
      [null, null],
      'their unionids are cleared with the rest',
    );
    // A re-login in the member app reactivates the same, empty account.
    const back = ok(await login(MEMBER.appId, { openId: b.user.openId }));
    assert.equal(back.user.id, a.user.id);
    assert.equal(back.user.unionId, null);
  });

  describe('push per app', () => {
    const pushTo = (path: string, message: Record<string, unknown>, credentials: PushCredentials) => {
      const built = buildWechatPush(message, credentials, { mode: 'safe', format: 'xml' });
      return app.request('POST', `${path}?${new URLSearchParams(built.query)}`, { rawBody: built.body, headers: { 'content-type': built.contentType } });
    };
    const creds = (a: WechatAppSettings): PushCredentials => ({ token: a.pushToken!, encodingAesKey: a.pushAesKey, appId: a.appId });
    const revoke = (appId: string, openId: string) => ({
      ToUserName: 'gh_0000000000a',
      FromUserName: 'o_wechat_push_service',
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      Event: 'user_authorization_revoke',
      OpenID: openId,
      AppID: appId,
      RevokeInfo: '6',
    });

    test("each app has its own route, Token and key; the event acts on that app's identity", async () => {
      const unionId = newUnionId();
      ok(await login(STORE.appId, { unionId, nickName: 'Pushed' }));
      const b = ok(await login(MEMBER.appId, { unionId }, 'code'));
      assert.equal(b.user.nickname, 'Pushed');

      // The member openid is unknown in the store app: nothing happens there.
      const wrongApp = await pushTo(`/wechat/push/${STORE.appId}`, revoke(STORE.appId, b.user.openId), creds(STORE));
      assert.equal(wrongApp.text, 'success');
      assert.equal((await userRow(b.user.id)).nickname, 'Pushed');
      const audit = await app.db.query<{ outcome: string; app_id: string }>(`SELECT outcome, app_id FROM wechat_push_message WHERE open_id = $1`, [b.user.openId]);
      assert.deepEqual(audit, [{ outcome: 'user_not_found', app_id: STORE.appId }]);

      // Signed with the store app's Token but sent to the member route: refused.
      assertError(await pushTo(`/wechat/push/${MEMBER.appId}`, revoke(MEMBER.appId, b.user.openId), creds(STORE)), 401, 'PUSH_SIGNATURE_MISMATCH');
      // The one-app route and an unknown app's route do not exist with several apps.
      assertError(await pushTo('/wechat/push', revoke(MEMBER.appId, b.user.openId), creds(MEMBER)), 404, 'NOT_FOUND');
      assertError(await pushTo('/wechat/push/wxUnknown0000000', revoke(MEMBER.appId, b.user.openId), creds(MEMBER)), 404, 'NOT_FOUND');

      // An event this service does not handle names the user only on the route of the app the openid belongs to.
      const unhandled = (appId: string) => ({ ...revoke(appId, b.user.openId), Event: 'some_future_event' });
      assert.equal((await pushTo(`/wechat/push/${STORE.appId}`, unhandled(STORE.appId), creds(STORE))).text, 'success');
      assert.equal((await pushTo(`/wechat/push/${MEMBER.appId}`, unhandled(MEMBER.appId), creds(MEMBER))).text, 'success');
      const recorded = await app.db.query<{ app_id: string; outcome: string; user_id: string | null }>(
        `SELECT app_id, outcome, user_id FROM wechat_push_message WHERE open_id = $1 AND event = 'some_future_event' ORDER BY id`,
        [b.user.openId],
      );
      assert.deepEqual(
        recorded.map((r) => [r.app_id, r.outcome, r.user_id === null ? null : Number(r.user_id)]),
        [
          [STORE.appId, 'recorded', null],
          [MEMBER.appId, 'recorded', b.user.id],
        ],
      );

      // The member route with the member credentials: the member identity's account is cleared.
      const done = await pushTo(`/wechat/push/${MEMBER.appId}`, revoke(MEMBER.appId, b.user.openId), creds(MEMBER));
      assert.equal(done.text, 'success', done.text);
      assert.equal((await userRow(b.user.id)).nickname, null);
    });

    /** PATCHes `avatarUrl` and returns the fake WeChat's verdict push, held back instead of sent, so the test sends it where it likes. */
    async function heldVerdict(token: string, avatarUrl: string): Promise<Record<string, unknown>> {
      const deliver = app.wechat.onMediaVerdict;
      const held: Record<string, unknown>[] = [];
      app.wechat.onMediaVerdict = (push) => void held.push({ ...push });
      try {
        ok(await app.request('PATCH', '/users/me', { token, body: { avatarUrl } }));
        for (const deadline = Date.now() + 10_000; held.length === 0; await new Promise((r) => setTimeout(r, 20))) assert.ok(Date.now() < deadline, 'no verdict');
      } finally {
        app.wechat.onMediaVerdict = deliver;
      }
      return held[0];
    }

    test("an image verdict decides only a check of its own app: another app's route, however signed, changes nothing", async () => {
      const b = ok(await login(MEMBER.appId, {}, 'code'));
      const held = await heldVerdict(b.token, 'https://cdn.example.com/member-only.png');
      const pass: Record<string, unknown> = { ...held, result: { suggest: 'pass', label: 100 } };
      const { appid: _appid, ...withoutAppId } = pass;
      // On the store app's route, signed by the store app: naming the member app, or no app at all.
      for (const message of [pass, withoutAppId]) assert.equal((await pushTo(`/wechat/push/${STORE.appId}`, message, creds(STORE))).text, 'success');
      let me = ok(await app.request('GET', '/users/me', { token: b.token }));
      assert.deepEqual([me.avatarUrl, me.avatarPending], [null, true]);
      const outcomes = await app.db.query<{ app_id: string; outcome: string }>(`SELECT app_id, outcome FROM wechat_push_message WHERE event = 'wxa_media_check' AND open_id = $1 ORDER BY id`, [
        b.user.openId,
      ]);
      assert.deepEqual(
        outcomes.map((r) => [r.app_id, r.outcome]),
        [
          // The audit rows name the app whose route received them; the verdict was not applied.
          [STORE.appId, 'other_app'],
          [STORE.appId, 'avatar_other_app'],
        ],
      );
      // The member app's own route decides it.
      assert.equal((await pushTo(`/wechat/push/${MEMBER.appId}`, pass, creds(MEMBER))).text, 'success');
      me = ok(await app.request('GET', '/users/me', { token: b.token }));
      assert.deepEqual([me.avatarUrl, me.avatarPending], ['https://cdn.example.com/member-only.png', false]);
    });

    test("a check asked as one identity of a user is decided only by its app, even when the user also has an identity in the verdict's app", async () => {
      const unionId = newUnionId();
      const member = ok(await login(MEMBER.appId, { unionId }, 'code'));
      const store = ok(await login(STORE.appId, { unionId }, 'code'));
      assert.equal(store.user.id, member.user.id, 'one account, two identities');
      // Asked as the store identity.
      const held = await heldVerdict(store.token, 'https://cdn.example.com/store-asked.png');
      // The same verdict, as the member app would push it: its route, its keys, its openid of the user.
      const { appid: _appid, ...asMember }: Record<string, unknown> = { ...held, result: { suggest: 'pass', label: 100 }, FromUserName: member.user.openId };
      assert.equal((await pushTo(`/wechat/push/${MEMBER.appId}`, asMember, creds(MEMBER))).text, 'success');
      let me = ok(await app.request('GET', '/users/me', { token: store.token }));
      assert.deepEqual([me.avatarUrl, me.avatarPending], [null, true]);
      const [row] = await app.db.query<{ app_id: string; outcome: string }>(`SELECT app_id, outcome FROM wechat_push_message WHERE event = 'wxa_media_check' AND open_id = $1`, [member.user.openId]);
      assert.deepEqual([row.app_id, row.outcome], [MEMBER.appId, 'avatar_other_app']);
      const [check] = await app.db.query<{ app_id: string; open_id: string }>(`SELECT app_id, open_id FROM content_check WHERE trace_id = $1`, [held.trace_id]);
      assert.deepEqual([check.app_id, check.open_id], [STORE.appId, store.user.openId], 'the check records who it was asked as');
      // The store app's verdict decides it.
      assert.equal((await pushTo(`/wechat/push/${STORE.appId}`, { ...held, result: { suggest: 'pass', label: 100 } }, creds(STORE))).text, 'success');
      me = ok(await app.request('GET', '/users/me', { token: store.token }));
      assert.deepEqual([me.avatarUrl, me.avatarPending], ['https://cdn.example.com/store-asked.png', false]);
    });

    test('an unauthenticated push to an app route is 401 whatever its body; correctly signed and malformed, 400', async () => {
      const post = (path: string, query: Record<string, string>, contentType: string, body: string) =>
        app.request('POST', `${path}?${new URLSearchParams(query)}`, { rawBody: body, headers: { 'content-type': contentType } });
      const bodies: [string, string][] = [
        ['text/xml', '<xml><a>1</a>'],
        ['application/json', '[1]'],
        ['text/xml', '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><A>&x;</A></xml>'],
        ['text/xml', '<xml></xml>'],
      ];
      const member = `/wechat/push/${MEMBER.appId}`;
      const signedByStore = buildWechatPush({}, creds(STORE), { mode: 'plain' }).query;
      const signedByMember = buildWechatPush({}, creds(MEMBER), { mode: 'plain' }).query;
      for (const [contentType, body] of bodies) {
        const label = `${contentType} ${body.slice(0, 12)}`;
        assertError(await post(member, { signature: '0'.repeat(40), timestamp: signedByMember.timestamp, nonce: '1' }, contentType, body), 401, 'PUSH_SIGNATURE_MISMATCH', `wrong signature, ${label}`);
        assertError(await post(member, signedByStore, contentType, body), 401, 'PUSH_SIGNATURE_MISMATCH', `the other app's signature, ${label}`);
        assertError(await post(member, {}, contentType, body), 401, 'PUSH_SIGNATURE_MISMATCH', `no query, ${label}`);
        assertError(
          await post(member, { ...signedByMember, signature: '', encrypt_type: 'aes', msg_signature: '0'.repeat(40) }, contentType, body),
          401,
          'PUSH_SIGNATURE_MISMATCH',
          `safe mode, ${label}`,
        );
        assertError(await post(member, signedByMember, contentType, body), 400, 'VALIDATION_FAILED', `correctly signed, ${label}`);
        // Routes that do not exist stay 404 whatever the query.
        assertError(await post('/wechat/push/wxUnknown0000000', {}, contentType, body), 404, 'NOT_FOUND', `unknown app, ${label}`);
        assertError(await post('/wechat/push', {}, contentType, body), 404, 'NOT_FOUND', `one-app route, ${label}`);
      }
    });

    test('the URL check answers per app; an app without a push Token has no route', async () => {
      for (const a of [STORE, MEMBER]) {
        const built = buildWechatPush({}, creds(a), { mode: 'plain' });
        const q = new URLSearchParams({ signature: built.query.signature, timestamp: built.query.timestamp, nonce: built.query.nonce, echostr: 'hello123' });
        const answer = await app.request('GET', `/wechat/push/${a.appId}?${q}`);
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.text, 'hello123');
        const other = a === STORE ? MEMBER : STORE;
        assertError(await app.request('GET', `/wechat/push/${other.appId}?${q}`), 401, 'PUSH_SIGNATURE_MISMATCH');
      }
    });
  });
});

describe('several mini programs: three apps', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ apps: [STORE, MEMBER, STAFF] });
  });
  after(async () => {
    await app?.close();
  });

  test('one person in three apps, first logins all at once: one user with three identities', async () => {
    for (let round = 0; round < 5; round++) {
      const unionId = newUnionId();
      const answers = await Promise.all([STAFF, MEMBER, STORE, STAFF, MEMBER, STORE].map((a) => app.login({ appId: a.appId, unionId })));
      const ids = new Set(answers.map((a) => ok(a).user.id));
      assert.equal(ids.size, 1, `round ${round}: one user`);
      const [userId] = ids;
      const rows = await app.db.query<IdentityRow>('SELECT * FROM wechat_identity WHERE user_id = $1 ORDER BY id', [userId]);
      assert.deepEqual(rows.map((r) => r.app_id).sort(), [MEMBER.appId, STAFF.appId, STORE.appId].sort());
      assert.equal(new Set(rows.map((r) => r.open_id)).size, 3, 'three openids');
      const me = ok(await app.request('GET', '/users/me', { token: answers[0].body.token }));
      assert.equal(me.openId, rows.find((r) => r.app_id === STAFF.appId)!.open_id);
      assert.equal(me.identities.length, 3);
    }
  });

  test("a login that waited for another app's first login of the same person returns and caches both identities", async () => {
    const unionId = newUnionId();
    const staff = ok(await app.login({ appId: STAFF.appId, unionId }));
    const userId = staff.user.id;
    const memberOpenId = `oMember${unionId}`;
    const other = new Client({ connectionString: app.db.url });
    await other.connect();
    try {
      // Another instance's first login in the member app, caught before it commits: the identity is
      // inserted and the user row updated (so locked) in one transaction.
      await other.query('BEGIN');
      await other.query('INSERT INTO wechat_identity (user_id, app_id, open_id, union_id) VALUES ($1, $2, $3, $4)', [userId, MEMBER.appId, memberOpenId, unionId]);
      await other.query('UPDATE wechat_user SET updated_at = now() WHERE id = $1', [userId]);
      const again = app.login({ appId: STAFF.appId, unionId });
      // The login's update waits for that lock; then the other transaction commits.
      await eventually(async () => {
        const [{ waiting }] = await app.db.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE "wechat_user"%'`,
        );
        return waiting > 0 ? true : undefined;
      });
      await other.query('COMMIT');
      const answer = ok(await again);
      const both = [
        { appId: STAFF.appId, openId: staff.user.openId },
        { appId: MEMBER.appId, openId: memberOpenId },
      ];
      assert.deepEqual(answer.user.identities, both, 'the login answer');
      const me = ok(await app.request('GET', '/users/me', { token: answer.token }));
      assert.deepEqual(me.identities, both, 'the cached user');
    } finally {
      await other.end().catch(() => undefined);
    }
  });

  test('an app without push credentials has no push route; the others do', async () => {
    assertError(await app.request('GET', `/wechat/push/${STAFF.appId}?signature=x&timestamp=1&nonce=1&echostr=e`), 404, 'NOT_FOUND');
    assertError(await app.request('GET', `/wechat/push/${STORE.appId}?signature=x&timestamp=1&nonce=1&echostr=e`), 401, 'PUSH_SIGNATURE_MISMATCH');
  });

  test('a token of an app no longer configured is refused', async () => {
    const person = ok(await app.login({ appId: STORE.appId }));
    const claims = jwt.decode(person.token) as Record<string, unknown>;
    const forged = jwt.sign({ sub: claims.sub, ver: claims.ver, app: 'wxRemoved0000000' }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 600,
      issuer: claims.iss as string,
      audience: claims.aud as string,
    });
    assertError(await app.request('GET', '/users/me', { token: forged }), 401, 'UNAUTHORIZED');
  });
});
