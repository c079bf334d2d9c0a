/**
 * POST /wechat/login end to end (the login flow, its errors and the stored row): the real app on its own
 * database, talking over HTTP to the fake WeChat. Assertions are on what a user sees: status, body,
 * rows in `wechat_user`, and what WeChat received.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { encryptWithSessionKey, JSCODE2SESSION_PATH, sha1Hex, type SimRequest, type SimResponse } from '../src/sandbox/wechat-simulator';
import type { Fault } from './support/faulty-wechat-simulator';
import { startTestApp, TEST_APPID, TEST_SECRET, type HttpAnswer, type TestApp, USER_FIELDS } from './support/test-app';
import type { WechatUserRow } from './support/test-database';

const SEVEN_DAYS = 7 * 24 * 3600;

type UserRow = WechatUserRow;

describe('POST /wechat/login', () => {
  let app: TestApp;
  let seq = 0;

  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });
  beforeEach(() => {
    // Faults, recorded requests and counters; issued codes and sessions stay.
    app.wechat.reset();
  });

  /** A fresh openid per test, so tests never see each other's rows. */
  const newOpenId = () => `oLoginTest${process.pid}x${Date.now().toString(36)}x${++seq}`;

  const rowsOf = (openId: string) => app.db.query<UserRow>('SELECT * FROM wechat_user WHERE open_id = $1', [openId]);
  const rowCount = async () => Number((await app.db.query<{ n: string }>('SELECT count(*) AS n FROM wechat_user'))[0].n);
  const login = (body: unknown) => app.request('POST', '/wechat/login', { body });

  /** The session_key the fake bound to an issued, not yet exchanged code (to craft data WeChat never would). */
  function pendingSessionKey(code: string): string {
    const key = app.wechat.pendingSessionKey(code);
    assert.ok(key, `test setup: no pending session_key for code ${code}`);
    return key;
  }

  /** Encrypts a user-info payload as WeChat does, with a watermark naming `appid` (or none). */
  function encrypt(sessionKey: string, payload: object, appid: string | null = TEST_APPID) {
    const watermark = appid === null ? {} : { watermark: { appid, timestamp: Math.floor(Date.now() / 1000) } };
    return encryptWithSessionKey(sessionKey, JSON.stringify({ ...payload, ...watermark }));
  }

  function assertError(res: HttpAnswer, status: number, code: string): void {
    assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(res.body ?? {}).sort(), ['code', 'message', 'statusCode'], res.text);
    assert.equal(res.body.statusCode, status);
    assert.equal(res.body.code, code);
    assert.equal(typeof res.body.message, 'string');
    assert.ok(res.body.message.length > 0);
    assert.doesNotMatch(res.text, /at .*\.(js|ts):\d+/, 'no stack trace in an error body');
  }

  async function assertNoRow(openId: string): Promise<void> {
    assert.deepEqual(await rowsOf(openId), [], `a failed login must write no row for ${openId}`);
  }

  /** A full login body from freshly issued wx.login + wx.getUserInfo data. */
  function fullLoginBody(input: Parameters<TestApp['wechat']['issueLoginCode']>[0] = {}) {
    const issued = app.wechat.issueLoginCode({ openId: newOpenId(), ...input });
    const body = { code: issued.code, rawData: issued.rawData, signature: issued.signature, encryptedData: issued.encryptedData, iv: issued.iv };
    return { issued, body };
  }

  // ------------------------------------------------------------------ success

  describe('success', () => {
    test('a full login answers token + user from the data, stores the row, keeps session_key secret', async () => {
      const openId = newOpenId();
      const res = await app.login({
        openId,
        unionId: 'oUnionFull1',
        nickName: 'Full Login',
        avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/full/132',
        gender: 2,
        country: 'China',
        province: 'Guangdong',
        city: 'Shenzhen',
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['expiresIn', 'token', 'tokenType', 'user']);
      // RFC 6749 §5.1: an answer carrying a token must not be stored by any cache.
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.body.tokenType, 'Bearer');
      assert.equal(res.body.expiresIn, SEVEN_DAYS);
      assert.equal(typeof res.body.token, 'string');
      assert.equal(res.body.token.split('.').length, 3, 'token is a JWT');

      const user = res.body.user;
      assert.deepEqual(Object.keys(user).sort(), USER_FIELDS);
      assert.equal(typeof user.id, 'number');
      assert.equal(user.openId, openId);
      assert.equal(user.unionId, 'oUnionFull1');
      assert.equal(user.nickname, 'Full Login');
      assert.equal(user.avatarUrl, 'https://thirdwx.qlogo.cn/mmopen/full/132');
      assert.equal(user.gender, 2);
      assert.equal(user.country, 'China');
      assert.equal(user.province, 'Guangdong');
      assert.equal(user.city, 'Shenzhen');
      assert.equal(user.mobile, null);
      assert.deepEqual(user.identities, [{ appId: TEST_APPID, openId }], 'one identity, of the one configured app');
      assert.equal(new Date(user.createdAt).toISOString(), user.createdAt);
      assert.equal(new Date(user.updatedAt).toISOString(), user.updatedAt);

      const rows = await rowsOf(openId);
      assert.equal(rows.length, 1);
      const row = rows[0];
      assert.equal(row.id, user.id);
      assert.equal(row.union_id, 'oUnionFull1');
      assert.equal(row.nickname, 'Full Login');
      assert.equal(row.avatar_url, 'https://thirdwx.qlogo.cn/mmopen/full/132');
      assert.equal(row.gender, 2);
      assert.equal(row.country, 'China');
      assert.equal(row.province, 'Guangdong');
      assert.equal(row.city, 'Shenzhen');
      assert.equal(row.deleted_at, null);

      // The session_key stays on the server: not in the body, not in the token, not in a log line.
      const sessionKey = app.wechat.currentSessionKey(openId);
      assert.ok(sessionKey, 'the fake handed out a session_key');
      assert.doesNotMatch(res.text, /session_?key/i);
      assert.ok(!res.text.includes(sessionKey), 'the session_key value is not in the response');
      const claims = Buffer.from(res.body.token.split('.')[1], 'base64url').toString('utf8');
      assert.ok(!claims.includes(sessionKey), 'the session_key is not in the token');
      assert.ok(!app.logLines.some((line) => line.includes(sessionKey)), 'the session_key is not in any log line');
    });

    test('jscode2session gets appid, secret, js_code and grant_type=authorization_code; nothing else is called', async () => {
      const { issued, body } = fullLoginBody();
      const res = await login(body);
      assert.equal(res.status, 200, res.text);
      assert.equal(app.wechat.requests.length, 1, `WeChat received: ${app.wechat.requests.map((r) => r.path).join(', ')}`);
      const [req] = app.wechat.requests;
      assert.equal(req.method, 'GET');
      assert.equal(req.path, JSCODE2SESSION_PATH);
      assert.equal(req.query.appid, TEST_APPID);
      assert.equal(req.query.secret, TEST_SECRET);
      assert.equal(req.query.js_code, issued.code);
      assert.equal(req.query.grant_type, 'authorization_code');
    });

    test('encryptedData wins over rawData; unionId comes from encryptedData', async () => {
      // Without unionId at issue time, jscode2session gives none: the unionId can only come from encryptedData.
      const openId = newOpenId();
      const issued = app.wechat.issueLoginCode({ openId });
      const sessionKey = pendingSessionKey(issued.code);
      const rawData = JSON.stringify({
        nickName: 'Raw Name',
        gender: 1,
        language: 'zh_CN',
        city: 'Raw City',
        province: 'Raw Province',
        country: 'Raw Country',
        avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/raw/132',
      });
      const encrypted = encrypt(sessionKey, {
        openId,
        unionId: 'oUnionFromEncrypted',
        nickName: 'Encrypted Name',
        gender: 2,
        language: 'zh_CN',
        city: 'Enc City',
        province: 'Enc Province',
        country: 'Enc Country',
        avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/enc/132',
      });
      const res = await login({ code: issued.code, rawData, signature: sha1Hex(rawData + sessionKey), ...encrypted });
      assert.equal(res.status, 200, res.text);
      const user = res.body.user;
      assert.equal(user.nickname, 'Encrypted Name');
      assert.equal(user.gender, 2);
      assert.equal(user.city, 'Enc City');
      assert.equal(user.province, 'Enc Province');
      assert.equal(user.country, 'Enc Country');
      assert.equal(user.avatarUrl, 'https://thirdwx.qlogo.cn/mmopen/enc/132');
      assert.equal(user.unionId, 'oUnionFromEncrypted');
      const [row] = await rowsOf(openId);
      assert.equal(row.nickname, 'Encrypted Name');
      assert.equal(row.city, 'Enc City');
      assert.equal(row.union_id, 'oUnionFromEncrypted');
    });

    test('rawData + signature alone give the profile', async () => {
      const { issued } = fullLoginBody({ nickName: 'Raw Only', city: 'Hangzhou', gender: 1 });
      const res = await login({ code: issued.code, rawData: issued.rawData, signature: issued.signature });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.user.nickname, 'Raw Only');
      assert.equal(res.body.user.city, 'Hangzhou');
      assert.equal(res.body.user.gender, 1);
      assert.equal((await rowsOf(issued.openId))[0].nickname, 'Raw Only');
    });

    test('a login with the code alone creates the user with an empty profile', async () => {
      const openId = newOpenId();
      const res = await app.login({ openId, nickName: 'Not Sent' }, 'code');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.tokenType, 'Bearer');
      assert.equal(res.body.expiresIn, SEVEN_DAYS);
      const user = res.body.user;
      assert.equal(user.openId, openId);
      for (const field of ['unionId', 'nickname', 'avatarUrl', 'gender', 'country', 'province', 'city', 'mobile']) {
        assert.equal(user[field], null, `${field} is null`);
      }
      const rows = await rowsOf(openId);
      assert.equal(rows.length, 1);
      const row = rows[0];
      assert.equal(row.id, user.id);
      for (const column of ['union_id', 'nickname', 'avatar_url', 'gender', 'country', 'province', 'city', 'mobile'] as const) {
        assert.equal(row[column], null, `${column} is null`);
      }
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 1);
    });

    test('a rawData profile field the database would refuse (NUL) is dropped, not the login; the stored value stays', async () => {
      const openId = newOpenId();
      const first = await app.login({ openId, nickName: 'Kept Name', city: 'Kept City' });
      assert.equal(first.status, 200, first.text);
      const issued = app.wechat.issueLoginCode({ openId, nickName: 'Evil\u0000Name', city: 'Shenzhen', province: 'Guangdong', gender: 1 });
      const logged = app.logLines.length;
      const res = await login({ code: issued.code, rawData: issued.rawData, signature: issued.signature });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.user.nickname, 'Kept Name', 'treated as not given: the stored nickname stays');
      assert.equal(res.body.user.city, 'Shenzhen');
      assert.equal(res.body.user.province, 'Guangdong');
      assert.equal(res.body.user.gender, 1);
      const [row] = await rowsOf(openId);
      assert.equal(row.nickname, 'Kept Name');
      assert.equal(row.city, 'Shenzhen');

      const lines = app.logLines.slice(logged).map((l) => JSON.parse(l) as { level: number; msg: string });
      const warnings = lines.filter((l) => l.level === 40);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.match(warnings[0].msg, /^rawData nickName contains a NUL character/);
      assert.ok(!app.logLines.slice(logged).some((l) => l.includes('Evil')), 'the value itself is never logged');
    });

    test('control characters and lone surrogates in rawData and encryptedData profile fields: those fields dropped, the rest stored', async () => {
      for (const [label, nickName] of [
        ['a control character', 'Bell\u0007Xq1'],
        ['a lone surrogate', 'Half\ud800Xq2'],
        ['a C1 control character', 'Next\u0085Xq3'],
      ]) {
        const openId = newOpenId();
        const issued = app.wechat.issueLoginCode({ openId, unionId: `oUnionDrop${seq}`, nickName, country: 'China', city: 'Hangzhou', avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/drop/132' });
        const logged = app.logLines.length;
        const res = await login({ code: issued.code, rawData: issued.rawData, signature: issued.signature, encryptedData: issued.encryptedData, iv: issued.iv });
        assert.equal(res.status, 200, `${label}: ${res.text}`);
        const user = res.body.user;
        assert.equal(user.nickname, null, label);
        assert.equal(user.country, 'China', label);
        assert.equal(user.city, 'Hangzhou', label);
        assert.equal(user.avatarUrl, 'https://thirdwx.qlogo.cn/mmopen/drop/132', label);
        assert.equal(user.unionId, `oUnionDrop${seq}`, label);
        const [row] = await rowsOf(openId);
        assert.equal(row.nickname, null, label);
        assert.equal(row.city, 'Hangzhou', label);

        const warnings = app.logLines
          .slice(logged)
          .map((l) => JSON.parse(l) as { level: number; msg: string })
          .filter((l) => l.level === 40)
          .map((l) => l.msg);
        // One line per dropped field, naming it: the message starts with "<source> <field>".
        assert.deepEqual(warnings.map((m) => m.split(' ').slice(0, 2).join(' ')).sort(), ['encryptedData nickName', 'rawData nickName'], `${label}: ${JSON.stringify(warnings)}`);
        const marker = nickName.slice(-3);
        assert.ok(!app.logLines.slice(logged).some((l) => l.includes(marker)), `${label}: the value itself is never logged`);
      }
    });

    test('the token opens GET /users/me as the logged-in user', async () => {
      const { issued, body } = fullLoginBody({ nickName: 'Me Check' });
      const res = await login(body);
      assert.equal(res.status, 200, res.text);
      const me = await app.request('GET', '/users/me', { token: res.body.token });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.id, res.body.user.id);
      assert.equal(me.body.openId, issued.openId);
      assert.equal(me.body.nickname, 'Me Check');
    });
  });

  // ------------------------------------------------------------------ re-login

  describe('re-login of the same openid', () => {
    test('keeps one row and the same id; code-only keeps the profile; new profile data updates it', async () => {
      const openId = newOpenId();
      const first = await app.login({ openId, unionId: 'oUnionRe', nickName: 'First Name', city: 'Beijing', gender: 1 });
      assert.equal(first.status, 200, first.text);
      const id = first.body.user.id;
      const [firstRow] = await rowsOf(openId);

      const codeOnly = await app.login({ openId, unionId: 'oUnionRe' }, 'code');
      assert.equal(codeOnly.status, 200, codeOnly.text);
      assert.equal(codeOnly.body.user.id, id);
      assert.equal(codeOnly.body.user.nickname, 'First Name');
      assert.equal(codeOnly.body.user.city, 'Beijing');
      assert.equal(codeOnly.body.user.gender, 1);
      assert.equal(codeOnly.body.user.unionId, 'oUnionRe');
      let rows = await rowsOf(openId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].nickname, 'First Name');
      assert.equal(rows[0].city, 'Beijing');

      const updated = await app.login({ openId, unionId: 'oUnionRe', nickName: 'Second Name', city: 'Shanghai', gender: 2 });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.user.id, id);
      assert.equal(updated.body.user.nickname, 'Second Name');
      assert.equal(updated.body.user.city, 'Shanghai');
      assert.equal(updated.body.user.gender, 2);
      rows = await rowsOf(openId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].id, id);
      assert.equal(rows[0].nickname, 'Second Name');
      assert.equal(rows[0].city, 'Shanghai');
      assert.equal(rows[0].gender, 2);
      assert.equal(rows[0].created_at.getTime(), firstRow.created_at.getTime(), 'created_at does not move');
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 3, 'one jscode2session per login');
    });

    test('a re-login without unionId keeps the stored unionId', async () => {
      const openId = newOpenId();
      assert.equal((await app.login({ openId, unionId: 'oUnionKept' })).status, 200);
      const again = await app.login({ openId }, 'code');
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.user.unionId, 'oUnionKept');
      assert.equal((await rowsOf(openId))[0].union_id, 'oUnionKept');
    });

    test('a deleted account is reactivated by the next login, same id, empty profile', async () => {
      const openId = newOpenId();
      const first = await app.login({ openId, unionId: 'oUnionGone', nickName: 'To Delete' });
      assert.equal(first.status, 200, first.text);
      const del = await app.request('DELETE', '/users/me', { token: first.body.token });
      assert.equal(del.status, 204, del.text);

      const again = await app.login({ openId }, 'code');
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.user.id, first.body.user.id);
      assert.equal(again.body.user.nickname, null);
      assert.equal(again.body.user.unionId, null);
      const rows = await rowsOf(openId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].deleted_at, null);
      assert.equal(rows[0].nickname, null);
      const me = await app.request('GET', '/users/me', { token: again.body.token });
      assert.equal(me.status, 200, me.text);
    });
  });

  // ------------------------------------------------------------------ upstream errors

  describe('WeChat errors: right status and code, nothing written', () => {
    /** Logs in with full data for a fresh openid while `fault` is queued on jscode2session. */
    async function loginWithFault(fault: Fault, times = Infinity) {
      const { issued, body } = fullLoginBody({ nickName: 'Should Not Be Stored' });
      app.wechat.fail(JSCODE2SESSION_PATH, fault, times);
      const started = performance.now();
      const res = await login(body);
      return { res, openId: issued.openId, ms: performance.now() - started };
    }

    test('an unknown code (40029) → 401 WECHAT_CODE_INVALID', async () => {
      const before = await rowCount();
      const res = await login({ code: 'no-such-code-' + randomBytes(8).toString('hex') });
      assertError(res, 401, 'WECHAT_CODE_INVALID');
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 1, 'a rejected code is not retried');
      assert.equal(await rowCount(), before);
    });

    test('a reused code (40163) → 401 WECHAT_CODE_INVALID, the existing row untouched', async () => {
      const { issued, body } = fullLoginBody({ nickName: 'Used Once' });
      const first = await login(body);
      assert.equal(first.status, 200, first.text);
      const [before] = await rowsOf(issued.openId);
      const res = await login(body);
      assertError(res, 401, 'WECHAT_CODE_INVALID');
      const rows = await rowsOf(issued.openId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].updated_at.getTime(), before.updated_at.getTime());
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 2);
    });

    test('errcode 40029 from WeChat (fault) → 401 WECHAT_CODE_INVALID', async () => {
      const { res, openId } = await loginWithFault({ errcode: 40029 });
      assertError(res, 401, 'WECHAT_CODE_INVALID');
      await assertNoRow(openId);
    });

    test('errcode 40163 from WeChat (fault) → 401 WECHAT_CODE_INVALID', async () => {
      const { res, openId } = await loginWithFault({ errcode: 40163 });
      assertError(res, 401, 'WECHAT_CODE_INVALID');
      await assertNoRow(openId);
    });

    test('errcode 40226 (high-risk user) → 403 WECHAT_USER_BLOCKED', async () => {
      const { res, openId } = await loginWithFault({ errcode: 40226 });
      assertError(res, 403, 'WECHAT_USER_BLOCKED');
      await assertNoRow(openId);
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 1);
    });

    test('errcode 45011 (rate limit) → 429 WECHAT_RATE_LIMITED', async () => {
      const { res, openId } = await loginWithFault({ errcode: 45011 });
      assertError(res, 429, 'WECHAT_RATE_LIMITED');
      await assertNoRow(openId);
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 1);
    });

    test('errcode -1 once, then success → 200 after exactly 2 jscode2session requests', async () => {
      const { res, openId } = await loginWithFault({ errcode: -1 }, 1);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.user.openId, openId);
      assert.equal(res.body.user.nickname, 'Should Not Be Stored');
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 2);
      assert.equal((await rowsOf(openId)).length, 1);
    });

    test('errcode -1 every time → 503 WECHAT_UNAVAILABLE after exactly 3 requests', async () => {
      const { res, openId } = await loginWithFault({ errcode: -1 });
      assertError(res, 503, 'WECHAT_UNAVAILABLE');
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 3);
      await assertNoRow(openId);
    });

    test('an HTML page instead of JSON → 502 WECHAT_BAD_RESPONSE', async () => {
      const { res, openId } = await loginWithFault({ kind: 'html' });
      assertError(res, 502, 'WECHAT_BAD_RESPONSE');
      assert.doesNotMatch(res.text, /<html/i);
      await assertNoRow(openId);
    });

    test('HTTP 500 → 503 WECHAT_UNAVAILABLE after exactly 1 request (not retried)', async () => {
      const { res, openId } = await loginWithFault({ kind: 'http500' });
      assertError(res, 503, 'WECHAT_UNAVAILABLE');
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 1);
      await assertNoRow(openId);
    });

    test('no answer → 503 WECHAT_UNAVAILABLE within the configured timeout (1500 ms), not retried', async () => {
      const { res, openId, ms } = await loginWithFault({ kind: 'hang' });
      assertError(res, 503, 'WECHAT_UNAVAILABLE');
      // The timeout is the cause; the bound only tells "gave up" from "waited for ever", with room for a busy machine.
      assert.match(res.body.message, /no answer within 1500 ms/);
      assert.ok(ms < 20_000, `answered after ${Math.round(ms)} ms`);
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 1);
      await assertNoRow(openId);
    });

    test('an answer that trickles in, 8 bytes every 250 ms, is cut off at the timeout (1500 ms) for the whole exchange → 503', async () => {
      // Each chunk comes well within 1500 ms of the last, so only a bound on the whole exchange stops it;
      // the full answer would take about 4 s.
      const { res, openId } = await loginWithFault({ kind: 'drip', ms: 250 }, 1);
      assertError(res, 503, 'WECHAT_UNAVAILABLE');
      assert.match(res.body.message, /no answer within 1500 ms/);
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 1);
      await assertNoRow(openId);
    });

    test('an unknown errcode (40013) → 502 WECHAT_BAD_RESPONSE', async () => {
      const { res, openId } = await loginWithFault({ errcode: 40013 });
      assertError(res, 502, 'WECHAT_BAD_RESPONSE');
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 1);
      await assertNoRow(openId);
    });

    test('a success body without openid and session_key (errcode 0 only) → 502 WECHAT_BAD_RESPONSE', async () => {
      const { res, openId } = await loginWithFault({ errcode: 0, errmsg: 'ok' });
      assertError(res, 502, 'WECHAT_BAD_RESPONSE');
      await assertNoRow(openId);
    });

    test('a success body with openid but no session_key → 502 WECHAT_BAD_RESPONSE', async () => {
      // Faults only produce errcode bodies, so wrap the fake's public handle(): the real answer minus session_key.
      const wechat = app.wechat;
      const original = wechat.handle;
      wechat.handle = async (req: SimRequest): Promise<SimResponse> => {
        const answer = await original.call(wechat, req);
        if (req.path !== JSCODE2SESSION_PATH || answer.status !== 200) return answer;
        const parsed = JSON.parse(answer.body) as Record<string, unknown>;
        assert.equal(typeof parsed.openid, 'string', 'the fake answered a session');
        delete parsed.session_key;
        return { ...answer, body: JSON.stringify(parsed) };
      };
      try {
        const { issued, body } = fullLoginBody();
        const res = await login(body);
        assertError(res, 502, 'WECHAT_BAD_RESPONSE');
        await assertNoRow(issued.openId);
      } finally {
        wechat.handle = original;
      }
    });
  });

  // ------------------------------------------------------------------ signature / crypto errors

  describe('signature and encrypted data errors: nothing written', () => {
    test('tampered rawData → 401 SIGNATURE_MISMATCH', async () => {
      const { issued, body } = fullLoginBody({ nickName: 'Honest' });
      const res = await login({ ...body, rawData: body.rawData.replace('Honest', 'Forged') });
      assertError(res, 401, 'SIGNATURE_MISMATCH');
      await assertNoRow(issued.openId);
    });

    test('tampered signature → 401 SIGNATURE_MISMATCH', async () => {
      const { issued, body } = fullLoginBody();
      const flipped = (body.signature[0] === '0' ? '1' : '0') + body.signature.slice(1);
      const res = await login({ ...body, signature: flipped });
      assertError(res, 401, 'SIGNATURE_MISMATCH');
      await assertNoRow(issued.openId);
    });

    test('a signature made with another session_key → 401 SIGNATURE_MISMATCH', async () => {
      const { issued, body } = fullLoginBody();
      const other = app.wechat.issueLoginCode({ openId: issued.openId });
      const res = await login({ ...body, rawData: other.rawData, signature: other.signature });
      assertError(res, 401, 'SIGNATURE_MISMATCH');
      await assertNoRow(issued.openId);
    });

    test('encryptedData of another session → 400 DECRYPT_FAILED', async () => {
      const { issued, body } = fullLoginBody();
      const other = app.wechat.issueLoginCode({ openId: newOpenId() });
      const res = await login({ ...body, encryptedData: other.encryptedData, iv: other.iv });
      assertError(res, 400, 'DECRYPT_FAILED');
      await assertNoRow(issued.openId);
    });

    test('random bytes as encryptedData (valid base64) → 400 DECRYPT_FAILED', async () => {
      const { issued, body } = fullLoginBody();
      const res = await login({ ...body, encryptedData: randomBytes(96).toString('base64'), iv: randomBytes(16).toString('base64') });
      assertError(res, 400, 'DECRYPT_FAILED');
      await assertNoRow(issued.openId);
    });

    test('truncated encryptedData (not whole AES blocks) → 400 DECRYPT_FAILED', async () => {
      const { issued, body } = fullLoginBody();
      const bytes = Buffer.from(body.encryptedData, 'base64');
      const res = await login({ ...body, encryptedData: bytes.subarray(0, bytes.length - 5).toString('base64') });
      assertError(res, 400, 'DECRYPT_FAILED');
      await assertNoRow(issued.openId);
    });

    test('encryptedData missing its last block → 400 DECRYPT_FAILED', async () => {
      const { issued, body } = fullLoginBody();
      const bytes = Buffer.from(body.encryptedData, 'base64');
      const res = await login({ ...body, encryptedData: bytes.subarray(0, bytes.length - 16).toString('base64') });
      assertError(res, 400, 'DECRYPT_FAILED');
      await assertNoRow(issued.openId);
    });

    test('the right encryptedData with a wrong iv → 400 DECRYPT_FAILED', async () => {
      const { issued, body } = fullLoginBody();
      const res = await login({ ...body, iv: randomBytes(16).toString('base64') });
      assertError(res, 400, 'DECRYPT_FAILED');
      await assertNoRow(issued.openId);
    });

    test('a plaintext that is not JSON (right key) → 400 DECRYPT_FAILED', async () => {
      const openId = newOpenId();
      const issued = app.wechat.issueLoginCode({ openId });
      const encrypted = encryptWithSessionKey(pendingSessionKey(issued.code), 'this is not json');
      const res = await login({ code: issued.code, ...encrypted });
      assertError(res, 400, 'DECRYPT_FAILED');
      await assertNoRow(openId);
    });

    test('a watermark of another appid (right key) → 400 WATERMARK_MISMATCH', async () => {
      const openId = newOpenId();
      const issued = app.wechat.issueLoginCode({ openId });
      const encrypted = encrypt(pendingSessionKey(issued.code), { openId, nickName: 'Foreign', unionId: 'oUnionForeign' }, 'wxforeignappid000');
      const res = await login({ code: issued.code, rawData: issued.rawData, signature: issued.signature, ...encrypted });
      assertError(res, 400, 'WATERMARK_MISMATCH');
      await assertNoRow(openId);
    });

    test('no watermark at all (right key) → 400 WATERMARK_MISMATCH', async () => {
      const openId = newOpenId();
      const issued = app.wechat.issueLoginCode({ openId });
      const encrypted = encrypt(pendingSessionKey(issued.code), { openId, nickName: 'Unmarked' }, null);
      const res = await login({ code: issued.code, ...encrypted });
      assertError(res, 400, 'WATERMARK_MISMATCH');
      await assertNoRow(openId);
    });

    test('a failed re-login leaves the existing user untouched (updated_at, profile)', async () => {
      const openId = newOpenId();
      const first = await app.login({ openId, nickName: 'Stable Name', city: 'Chengdu' });
      assert.equal(first.status, 200, first.text);
      const [before] = await rowsOf(openId);

      // Guarantee now() has moved on, so a write would show in updated_at.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const issued = app.wechat.issueLoginCode({ openId, nickName: 'Changed Name', city: 'Wuhan' });
      const res = await login({ code: issued.code, rawData: issued.rawData, signature: 'f'.repeat(40), encryptedData: issued.encryptedData, iv: issued.iv });
      assertError(res, 401, 'SIGNATURE_MISMATCH');

      const rows = await rowsOf(openId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].updated_at.getTime(), before.updated_at.getTime(), 'updated_at unchanged');
      assert.equal(rows[0].nickname, 'Stable Name');
      assert.equal(rows[0].city, 'Chengdu');
    });
  });

  // ------------------------------------------------------------------ validation

  describe('request validation: 400 VALIDATION_FAILED before WeChat is called', () => {
    type Case = { name: string; field: string; body: (b: ReturnType<typeof fullLoginBody>['body']) => unknown };
    const cases: Case[] = [
      { name: 'missing code', field: 'code', body: ({ code: _code, ...rest }) => rest },
      { name: 'empty code', field: 'code', body: (b) => ({ ...b, code: '' }) },
      { name: 'code not a string', field: 'code', body: (b) => ({ ...b, code: 12345 }) },
      { name: 'code over 128 chars', field: 'code', body: (b) => ({ ...b, code: 'a'.repeat(129) }) },
      // Valid JSON (an escaped lone surrogate) that is not valid Unicode: it could not go into WeChat's query string.
      { name: 'code with a lone surrogate', field: 'code', body: (b) => ({ ...b, code: `${b.code}\ud800` }) },
      { name: 'code with NUL', field: 'code', body: (b) => ({ ...b, code: `${b.code}\u0000` }) },
      { name: 'rawData without signature', field: 'signature', body: ({ signature: _s, ...rest }) => rest },
      { name: 'signature without rawData', field: 'rawData', body: ({ rawData: _r, ...rest }) => rest },
      { name: 'signature not hex', field: 'signature', body: (b) => ({ ...b, signature: 'z'.repeat(40) }) },
      { name: 'signature of 39 hex chars', field: 'signature', body: (b) => ({ ...b, signature: b.signature.slice(1) }) },
      { name: 'encryptedData without iv', field: 'iv', body: ({ iv: _iv, ...rest }) => rest },
      { name: 'iv without encryptedData', field: 'encryptedData', body: ({ encryptedData: _e, ...rest }) => rest },
      { name: 'encryptedData not a string', field: 'encryptedData', body: (b) => ({ ...b, encryptedData: 12345 }) },
      { name: 'iv not a string', field: 'iv', body: (b) => ({ ...b, iv: ['AAAAAAAAAAAAAAAAAAAAAA=='] }) },
      { name: 'encryptedData over 32768 chars', field: 'encryptedData', body: (b) => ({ ...b, encryptedData: 'A'.repeat(32772) }) },
      { name: 'rawData not JSON', field: 'rawData', body: (b) => ({ ...b, rawData: 'not json {' }) },
      { name: 'unknown field', field: 'isAdmin', body: (b) => ({ ...b, isAdmin: true }) },
    ];

    for (const c of cases) {
      test(`${c.name} → 400 VALIDATION_FAILED naming ${c.field}; WeChat not called; the code stays usable`, async () => {
        const { issued, body } = fullLoginBody({ nickName: 'Valid Later' });
        const res = await login(c.body(body));
        assertError(res, 400, 'VALIDATION_FAILED');
        assert.ok(res.body.message.includes(c.field), `message names ${c.field}: ${res.body.message}`);
        assert.equal(app.wechat.requests.length, 0, 'WeChat received no request');
        await assertNoRow(issued.openId);

        // The code was not spent: the same wx.login data still logs in.
        const ok = await login(body);
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.body.user.openId, issued.openId);
      });
    }

    test('malformed JSON → 400 VALIDATION_FAILED, WeChat not called', async () => {
      const { issued } = fullLoginBody();
      const res = await app.request('POST', '/wechat/login', { rawBody: `{"code":"${issued.code}",`, headers: { 'content-type': 'application/json' } });
      assertError(res, 400, 'VALIDATION_FAILED');
      assert.equal(app.wechat.requests.length, 0);
      await assertNoRow(issued.openId);
    });

    test('a body that is not an object → 400 VALIDATION_FAILED, WeChat not called', async () => {
      const { issued } = fullLoginBody();
      const res = await login([issued.code]);
      assertError(res, 400, 'VALIDATION_FAILED');
      assert.equal(app.wechat.requests.length, 0);
      await assertNoRow(issued.openId);
    });
  });

  describe('encryptedData or iv undecryptable on its face: 400 DECRYPT_FAILED before WeChat is called', () => {
    type Case = { name: string; field: 'encryptedData' | 'iv'; value: (b: ReturnType<typeof fullLoginBody>['body']) => string };
    const cases: Case[] = [
      { name: 'encryptedData with characters outside base64', field: 'encryptedData', value: (b) => `${b.encryptedData.slice(0, -4)}*!?#` },
      { name: 'encryptedData without its padding', field: 'encryptedData', value: (b) => (b.encryptedData.endsWith('=') ? b.encryptedData.replace(/=+$/, '') : b.encryptedData.slice(0, -1)) },
      { name: 'encryptedData in base64url', field: 'encryptedData', value: (b) => Buffer.from(b.encryptedData, 'base64').toString('base64url') + '-_' },
      { name: 'encryptedData of 20 bytes (not whole AES blocks)', field: 'encryptedData', value: () => randomBytes(20).toString('base64') },
      { name: 'empty encryptedData', field: 'encryptedData', value: () => '' },
      { name: 'iv that is not base64', field: 'iv', value: () => 'not base64 at all!!!!!!!' },
      { name: 'iv of 15 bytes', field: 'iv', value: () => randomBytes(15).toString('base64') },
      { name: 'iv of 32 bytes', field: 'iv', value: () => randomBytes(32).toString('base64') },
      { name: 'empty iv', field: 'iv', value: () => '' },
    ];

    for (const c of cases) {
      test(`${c.name} → 400 DECRYPT_FAILED naming ${c.field}; jscode2session not called; the code stays usable`, async () => {
        const { issued, body } = fullLoginBody({ nickName: 'Valid Later' });
        const res = await login({ ...body, [c.field]: c.value(body) });
        assertError(res, 400, 'DECRYPT_FAILED');
        assert.ok(res.body.message.includes(c.field), `message names ${c.field}: ${res.body.message}`);
        assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 0, 'the login code was not sent to WeChat');
        assert.equal(app.wechat.requests.length, 0, 'WeChat received no request');
        await assertNoRow(issued.openId);

        const ok = await login(body);
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.body.user.openId, issued.openId);
      });
    }
  });

  // ------------------------------------------------------------------ concurrency

  describe('concurrency', () => {
    test('50 simultaneous first logins of one openid → fifty 200s, one row, one user id', async () => {
      const openId = newOpenId();
      const bodies = Array.from({ length: 50 }, (_, i) => {
        const issued = app.wechat.issueLoginCode({ openId, unionId: 'oUnionRace', nickName: `Racer ${i}` });
        return { code: issued.code, rawData: issued.rawData, signature: issued.signature, encryptedData: issued.encryptedData, iv: issued.iv };
      });
      const answers = await Promise.all(bodies.map((b) => login(b)));
      const statuses = answers.map((a) => a.status);
      assert.deepEqual(statuses, Array(50).fill(200), `statuses: ${[...new Set(statuses)].join(', ')}; first failure: ${answers.find((a) => a.status !== 200)?.text}`);
      const ids = new Set(answers.map((a) => a.body.user.id));
      assert.equal(ids.size, 1, `user ids: ${[...ids].join(', ')}`);
      const rows = await rowsOf(openId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].id, [...ids][0]);
      assert.equal(rows[0].union_id, 'oUnionRace');
      assert.match(rows[0].nickname ?? '', /^Racer \d+$/);
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 50, 'exactly one jscode2session per login');
      assert.equal(app.wechat.requests.length, 50, 'no other WeChat call');
    });
  });
});
