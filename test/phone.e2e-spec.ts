/**
 * POST /wechat/phone and GET /wechat/session end to end: the real app on its own
 * database, talking over HTTP to the fake WeChat. Assertions are on what the mini program sees
 * (status, body), on the stored `mobile`, and on what WeChat received.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { CHECK_SESSION_PATH, encryptWithSessionKey, PHONE_NUMBER_PATH, type SimRequest, type SimResponse, STABLE_TOKEN_PATH } from '../src/sandbox/wechat-simulator';
import type { Fault } from './support/faulty-wechat-simulator';
import { parseDataKey } from '../src/config/profile-settings';
import { FieldCipher } from '../src/data-protection/field-cipher';
import { MOBILE_PURPOSE } from '../src/data-protection/mobile-number';
import { startTestApp, TEST_APPID, TEST_DATA_KEY, type HttpAnswer, type TestApp } from './support/test-app';

function assertError(res: HttpAnswer, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(res.body ?? {}).sort(), ['code', 'message', 'statusCode'], res.text);
  assert.equal(res.body.statusCode, status);
  assert.equal(res.body.code, code, res.text);
  assert.equal(typeof res.body.message, 'string');
}

describe('POST /wechat/phone and GET /wechat/session', () => {
  let app: TestApp;
  let seq = 0;

  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });
  beforeEach(() => {
    // Faults, recorded requests and counters; codes, sessions and access tokens stay.
    app.wechat.reset();
  });

  const newOpenId = () => `oPhoneTest${process.pid}x${Date.now().toString(36)}x${++seq}`;

  /** Logs a new user in; returns their token, id and openid. */
  async function newUser(openId = newOpenId()): Promise<{ token: string; id: number; openId: string }> {
    const res = await app.login({ openId }, 'code');
    assert.equal(res.status, 200, res.text);
    return { token: res.body.token, id: res.body.user.id, openId };
  }

  const phone = (token: string | undefined, body: unknown) => app.request('POST', '/wechat/phone', { token, body });
  const cipher = new FieldCipher({ current: parseDataKey(TEST_DATA_KEY)!, previous: [] });
  /** The stored number, opened with the data key; the column itself never holds it in plain text. */
  const mobileRow = async (id: number) => {
    const stored = (await app.db.query<{ mobile: string | null }>('SELECT mobile FROM wechat_user WHERE id = $1', [id]))[0]?.mobile;
    if (stored == null) return stored;
    assert.match(stored, /^v1\./, 'stored as an envelope');
    const number = cipher.open(stored, MOBILE_PURPOSE);
    assert.ok(!stored.includes(number), 'the plain number is not in the column');
    return number;
  };

  describe('{ code } (current API)', () => {
    test('answers the number, saves it as mobile, and calls getuserphonenumber with the access token', async () => {
      const user = await newUser();
      const { code } = app.wechat.issuePhoneCode({ phoneNumber: '13912345678' });
      const res = await phone(user.token, { code });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { phoneNumber: '13912345678', purePhoneNumber: '13912345678', countryCode: '86' });
      assert.equal(res.headers.get('cache-control'), 'no-store', 'a phone number is kept out of every cache');

      const me = await app.request('GET', '/users/me', { token: user.token });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.mobile, '13912345678');
      assert.equal(await mobileRow(user.id), '13912345678');

      const calls = app.wechat.requests.filter((r) => r.path === PHONE_NUMBER_PATH);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].method, 'POST');
      assert.equal(typeof calls[0].query.access_token, 'string');
      assert.ok(calls[0].query.access_token.length > 0);
      assert.deepEqual(calls[0].body, { code, openid: user.openId }, 'the code is redeemed for the caller');
    });

    test('a code issued to another user is refused by WeChat: 400 PHONE_CODE_INVALID, nothing stored', async () => {
      const owner = await newUser();
      const thief = await newUser();
      const { code } = app.wechat.issuePhoneCode({ phoneNumber: '13700001111', openId: owner.openId });
      const stolen = await phone(thief.token, { code });
      assert.equal(stolen.status, 400, stolen.text);
      assert.equal(stolen.body.code, 'PHONE_CODE_INVALID');
      assert.equal(await mobileRow(thief.id), null);
      const calls = app.wechat.requests.filter((r) => r.path === PHONE_NUMBER_PATH);
      assert.deepEqual(calls.at(-1)!.body, { code, openid: thief.openId });
      // The owner can still redeem it: WeChat did not spend it on the wrong openid.
      const own = await phone(owner.token, { code });
      assert.equal(own.status, 200, own.text);
      assert.equal(await mobileRow(owner.id), '13700001111');
    });

    test('a foreign number keeps its country code', async () => {
      const user = await newUser();
      const { code } = app.wechat.issuePhoneCode({ phoneNumber: '+1 5551234567' });
      const res = await phone(user.token, { code });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { phoneNumber: '+1 5551234567', purePhoneNumber: '5551234567', countryCode: '1' });
      assert.equal(await mobileRow(user.id), '+1 5551234567');
    });

    test('short numbers are logged masked, at least half of their digits hidden', async () => {
      for (const [number, digits] of [
        ['6123456', '6123456'],
        ['28123456', '28123456'],
        ['+852 61234567', '61234567'],
      ]) {
        const user = await newUser();
        const { code } = app.wechat.issuePhoneCode({ phoneNumber: number });
        const res = await phone(user.token, { code });
        assert.equal(res.status, 200, res.text);
        const lines = app.logLines.filter((line) => new RegExp(`saved for user ${user.id}\\b`).test(line));
        assert.equal(lines.length, 1, `the saved line of ${number}`);
        const masked = String(JSON.parse(lines[0]).mobile);
        const national = masked.replace(/^\+\d+ /, '');
        assert.ok(national.replace(/\D/g, '').length <= digits.length / 2, `${number} logged as ${masked}`);
        for (const line of app.logLines) assert.doesNotMatch(line, new RegExp(`(?<!\\d)${digits}(?!\\d)`), `${number} in full in a log line`);
      }
    });

    test('a reused code → 400 PHONE_CODE_INVALID, mobile unchanged', async () => {
      const user = await newUser();
      const { code } = app.wechat.issuePhoneCode({ phoneNumber: '13700000001' });
      assert.equal((await phone(user.token, { code })).status, 200);
      const other = await newUser();
      assertError(await phone(other.token, { code }), 400, 'PHONE_CODE_INVALID');
      assert.equal(await mobileRow(other.id), null);
    });

    test('an unknown code → 400 PHONE_CODE_INVALID', async () => {
      const user = await newUser();
      assertError(await phone(user.token, { code: 'no-such-code' }), 400, 'PHONE_CODE_INVALID');
      assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 1);
      assert.equal(await mobileRow(user.id), null);
    });

    const faults: [string, Fault, number, string][] = [
      ['40226 (high-risk user)', { errcode: 40226 }, 403, 'WECHAT_USER_BLOCKED'],
      ['45011 (rate limit)', { errcode: 45011 }, 429, 'WECHAT_RATE_LIMITED'],
      ['an unknown errcode', { errcode: 40097 }, 502, 'WECHAT_BAD_RESPONSE'],
      ['an HTML page', { kind: 'html' }, 502, 'WECHAT_BAD_RESPONSE'],
      ['HTTP 500', { kind: 'http500' }, 503, 'WECHAT_UNAVAILABLE'],
      ['no answer (timeout)', { kind: 'hang' }, 503, 'WECHAT_UNAVAILABLE'],
    ];
    for (const [what, fault, status, errorCode] of faults) {
      test(`${what} → ${status} ${errorCode}, not retried, mobile unchanged`, async () => {
        const user = await newUser();
        const { code } = app.wechat.issuePhoneCode();
        app.wechat.fail(PHONE_NUMBER_PATH, fault, 1);
        assertError(await phone(user.token, { code }), status, errorCode);
        assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 1);
        assert.equal(await mobileRow(user.id), null);
      });
    }

    test('errcode -1 once → retried, 200', async () => {
      const user = await newUser();
      const { code } = app.wechat.issuePhoneCode({ phoneNumber: '13600000002' });
      app.wechat.fail(PHONE_NUMBER_PATH, { errcode: -1 }, 1);
      const res = await phone(user.token, { code });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.phoneNumber, '13600000002');
      assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 2);
      assert.equal(await mobileRow(user.id), '13600000002');
    });

    test('errcode -1 three times → 503 WECHAT_UNAVAILABLE after 2 retries', async () => {
      const user = await newUser();
      const { code } = app.wechat.issuePhoneCode();
      app.wechat.fail(PHONE_NUMBER_PATH, { errcode: -1 }, 3);
      assertError(await phone(user.token, { code }), 503, 'WECHAT_UNAVAILABLE');
      assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 3);
    });
  });

  describe('{ encryptedData, iv } (legacy)', () => {
    test('decrypts with the stored session_key and saves the mobile', async () => {
      const user = await newUser();
      const res = await phone(user.token, app.wechat.encryptPhoneForSession(user.openId, '13500000003'));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { phoneNumber: '13500000003', purePhoneNumber: '13500000003', countryCode: '86' });
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(await mobileRow(user.id), '13500000003');
      const me = await app.request('GET', '/users/me', { token: user.token });
      assert.equal(me.body.mobile, '13500000003');
      // No server API call: the legacy path needs no access token.
      assert.equal(app.wechat.countRequests(PHONE_NUMBER_PATH), 0);
      assert.equal(app.wechat.countRequests(STABLE_TOKEN_PATH), 0);
    });

    test('uses the session_key of the LATEST login: old data → 400 DECRYPT_FAILED, new data → 200', async () => {
      const user = await newUser();
      const oldData = app.wechat.encryptPhoneForSession(user.openId, '13500000004');
      const oldKey = app.wechat.currentSessionKey(user.openId);
      const again = await newUser(user.openId);
      assert.equal(again.id, user.id);
      assert.notEqual(app.wechat.currentSessionKey(user.openId), oldKey, 'test setup: a new login must give a new session_key');

      assertError(await phone(again.token, oldData), 400, 'DECRYPT_FAILED');
      assert.equal(await mobileRow(user.id), null);

      const res = await phone(again.token, app.wechat.encryptPhoneForSession(user.openId, '13500000005'));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.phoneNumber, '13500000005');
      assert.equal(await mobileRow(user.id), '13500000005');
    });

    test('a foreign watermark → 400 WATERMARK_MISMATCH, mobile unchanged', async () => {
      const user = await newUser();
      const key = app.wechat.currentSessionKey(user.openId);
      assert.ok(key);
      const payload = { phoneNumber: '13500000006', purePhoneNumber: '13500000006', countryCode: '86', watermark: { appid: 'wxSomeoneElse', timestamp: Math.floor(Date.now() / 1000) } };
      assertError(await phone(user.token, encryptWithSessionKey(key, JSON.stringify(payload))), 400, 'WATERMARK_MISMATCH');
      assert.equal(await mobileRow(user.id), null);

      // The same payload with our appid passes: the watermark alone made the difference.
      const ours = { ...payload, watermark: { appid: TEST_APPID, timestamp: payload.watermark.timestamp } };
      assert.equal((await phone(user.token, encryptWithSessionKey(key, JSON.stringify(ours)))).status, 200);
    });

    test('decrypted data without a phone number → 400 DECRYPT_FAILED', async () => {
      const user = await newUser();
      assertError(await phone(user.token, app.wechat.encryptForSession(user.openId, { nickName: 'not a phone' })), 400, 'DECRYPT_FAILED');
    });
  });

  describe('validation and auth', () => {
    let token: string;
    before(async () => {
      token = (await newUser()).token;
    });

    test('both forms at once → 400 VALIDATION_FAILED', async () => {
      const { code } = app.wechat.issuePhoneCode();
      const res = await phone(token, { code, encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' });
      assertError(res, 400, 'VALIDATION_FAILED');
      assert.equal(app.wechat.requests.length, 0);
    });

    test('neither form → 400 VALIDATION_FAILED', async () => {
      assertError(await phone(token, {}), 400, 'VALIDATION_FAILED');
    });

    test('encryptedData without iv → 400 VALIDATION_FAILED', async () => {
      assertError(await phone(token, { encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==' }), 400, 'VALIDATION_FAILED');
    });

    test('an iv that is not 16 bytes, or encryptedData or iv that is not base64 → 400 DECRYPT_FAILED naming it', async () => {
      const iv = 'AAAAAAAAAAAAAAAAAAAAAA==';
      const encryptedData = Buffer.alloc(32).toString('base64');
      for (const [body, field] of [
        [{ encryptedData, iv: Buffer.alloc(12).toString('base64') }, 'iv'],
        [{ encryptedData, iv: 'AAAAAAAAAAAAAAAAAAAAAA' }, 'iv'],
        [{ encryptedData: `${encryptedData.slice(0, -4)}@@@@`, iv }, 'encryptedData'],
        [{ encryptedData: encryptedData.replace(/=+$/, ''), iv }, 'encryptedData'],
      ] as const) {
        const res = await phone(token, body);
        assertError(res, 400, 'DECRYPT_FAILED');
        assert.match(res.body.message, new RegExp(`\\b${field}\\b`), res.body.message);
      }
      assert.equal(app.wechat.requests.length, 0);
    });

    test('encryptedData or iv of the wrong type → 400 VALIDATION_FAILED naming it', async () => {
      const iv = 'AAAAAAAAAAAAAAAAAAAAAA==';
      for (const [body, field] of [
        [{ encryptedData: 42, iv }, 'encryptedData'],
        [{ encryptedData: iv, iv: 16 }, 'iv'],
        [{ encryptedData: 'A'.repeat(32772), iv }, 'encryptedData'],
      ] as const) {
        const res = await phone(token, body);
        assertError(res, 400, 'VALIDATION_FAILED');
        assert.match(res.body.message, new RegExp(`\\b${field}\\b`), res.body.message);
      }
    });

    test('an empty code → 400 VALIDATION_FAILED', async () => {
      assertError(await phone(token, { code: '' }), 400, 'VALIDATION_FAILED');
    });

    test('an unknown field → 400 VALIDATION_FAILED', async () => {
      assertError(await phone(token, { code: 'abc', extra: 1 }), 400, 'VALIDATION_FAILED');
    });

    test('no token → 401 UNAUTHORIZED, WeChat not called', async () => {
      const { code } = app.wechat.issuePhoneCode();
      assertError(await phone(undefined, { code }), 401, 'UNAUTHORIZED');
      assertError(await app.request('GET', '/wechat/session'), 401, 'UNAUTHORIZED');
      assert.equal(app.wechat.requests.length, 0);
    });
  });

  describe('GET /wechat/session', () => {
    test('valid after login; checksession got the HMAC of "" keyed by the session_key text', async () => {
      const user = await newUser();
      const sessionKey = app.wechat.currentSessionKey(user.openId);
      assert.ok(sessionKey);
      const res = await app.request('GET', '/wechat/session', { token: user.token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { valid: true });

      const calls = app.wechat.requests.filter((r) => r.path === CHECK_SESSION_PATH);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].method, 'GET');
      assert.equal(calls[0].query.openid, user.openId);
      assert.equal(calls[0].query.sig_method, 'hmac_sha256');
      assert.equal(calls[0].query.signature, createHmac('sha256', sessionKey).update('').digest('hex'));
      assert.notEqual(calls[0].query.signature, createHmac('sha256', Buffer.from(sessionKey, 'base64')).update('').digest('hex'));
      assert.ok(calls[0].query.access_token, 'checksession needs the access token');
    });

    test('after WeChat forgets the session → { valid: false }', async () => {
      const user = await newUser();
      assert.deepEqual((await app.request('GET', '/wechat/session', { token: user.token })).body, { valid: true });
      app.wechat.expireSession(user.openId);
      const res = await app.request('GET', '/wechat/session', { token: user.token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { valid: false });
      assert.equal(app.wechat.countRequests(CHECK_SESSION_PATH), 2);
    });

    test('a checksession answer without a numeric errcode → 502 WECHAT_BAD_RESPONSE, not { valid: true }', async () => {
      const user = await newUser();
      // Faults only produce errcode bodies, so wrap the fake's public handle(): WeChat always says { errcode: 0, errmsg: "ok" }.
      const wechat = app.wechat;
      const original = wechat.handle;
      let answer: object = {};
      wechat.handle = async (req: SimRequest): Promise<SimResponse> => {
        const real = await original.call(wechat, req);
        return req.path === CHECK_SESSION_PATH && real.status === 200 ? { ...real, body: JSON.stringify(answer) } : real;
      };
      try {
        for (const body of [{}, { errmsg: 'ok' }, { errcode: '0', errmsg: 'ok' }, { errcode: null }]) {
          answer = body;
          const res = await app.request('GET', '/wechat/session', { token: user.token });
          assertError(res, 502, 'WECHAT_BAD_RESPONSE');
          assert.match(res.body.message, /errcode/, JSON.stringify(body));
        }
        answer = { errcode: 0, errmsg: 'ok' };
        assert.deepEqual((await app.request('GET', '/wechat/session', { token: user.token })).body, { valid: true });
      } finally {
        wechat.handle = original;
      }
    });

    test('a checksession failure is an upstream error, not a 500', async () => {
      const user = await newUser();
      app.wechat.fail(CHECK_SESSION_PATH, { kind: 'html' }, 1);
      assertError(await app.request('GET', '/wechat/session', { token: user.token }), 502, 'WECHAT_BAD_RESPONSE');
    });
  });

  describe('no stored session_key', () => {
    test('the stored key gone (expired) → legacy decrypt 401 SESSION_EXPIRED, session { valid: false } without asking WeChat', async () => {
      const user = await newUser();
      const data = app.wechat.encryptPhoneForSession(user.openId, '13500000007');
      const before = app.wechat.requests.length;
      // Without Redis the keys are rows: one that expired is as good as gone.
      await app.db.query(`UPDATE wechat_session_key SET expires_at = now() - interval '1 second' WHERE open_id = $1`, [user.openId]);
      assertError(await app.request('POST', '/wechat/phone', { token: user.token, body: data }), 401, 'SESSION_EXPIRED');
      assert.equal(await mobileRow(user.id), null);
      const session = await app.request('GET', '/wechat/session', { token: user.token });
      assert.equal(session.status, 200, session.text);
      assert.deepEqual(session.body, { valid: false });
      assert.deepEqual(
        app.wechat.requests.slice(before).map((r) => r.path),
        [],
        'WeChat was not asked',
      );
    });

    test('a second instance on the same database has the session_key too (no Redis needed)', async () => {
      const user = await newUser();
      const data = app.wechat.encryptPhoneForSession(user.openId, '13500000008');
      const other = await startTestApp({ db: app.db });
      try {
        const phone = await other.request('POST', '/wechat/phone', { token: user.token, body: data });
        assert.equal(phone.status, 200, phone.text);
        assert.equal(phone.body.phoneNumber, '13500000008');
      } finally {
        await other.close();
      }
    });
  });
});
