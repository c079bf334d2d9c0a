import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import type { RunningApp } from '../src/bootstrap';
import { dedupKey, readPushMessage } from '../src/push/push-message';
import { buildPushXml } from '../src/push/push-xml';
import { WechatPushCrypto } from '../src/push/wechat-push-crypto';
import { buildWechatPush, type BuiltPush, type PushOptions } from '../src/sandbox/wechat-push-sender';
import { SessionKeyStore } from '../src/session-keys/session-key.store';
import { parseDataKey } from '../src/config/profile-settings';
import { FieldCipher } from '../src/data-protection/field-cipher';
import { MOBILE_PURPOSE } from '../src/data-protection/mobile-number';
import { callApp, type HttpAnswer, type SandboxApp, startSandboxApp, startTestApp, TEST_APPID, TEST_DATA_KEY, type TestApp } from './support/test-app';
import type { TestDatabase, WechatUserRow } from './support/test-database';

/** WeChat message push (消息推送): the receiver, its crypto on the wire, the events' effects, the sandbox push. */

const TOKEN = 'pushTestToken2024';
const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const CREDENTIALS = { token: TOKEN, encodingAesKey: AES_KEY, appId: TEST_APPID };
const MODES = ['plain', 'compatible', 'safe'] as const;
const FORMATS = ['xml', 'json'] as const;

interface PushRow {
  id: string;
  app_id: string | null;
  msg_type: string | null;
  event: string | null;
  open_id: string | null;
  user_id: string | null;
  outcome: string;
  detail: any;
  wechat_created_at: Date | null;
  received_at: Date;
  handled_at: Date | null;
}

const now = () => Math.floor(Date.now() / 1000);
let createTimeSeq = 0;
/** A distinct CreateTime per event built, so two tests never send what looks like one message. */
const createTime = () => now() - 100 + (createTimeSeq++ % 50);

function event(name: string, openId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ToUserName: 'gh_870882ca4b1', FromUserName: 'o_wechat_push_service', CreateTime: createTime(), MsgType: 'event', Event: name, OpenID: openId, AppID: TEST_APPID, ...extra };
}

function assertError(answer: HttpAnswer, status: number, code: string, label: string): void {
  assert.equal(answer.status, status, `${label}: ${answer.text}`);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, label);
  assert.deepEqual(Object.keys(answer.body ?? {}).sort(), ['code', 'message', 'statusCode'], `${label}: ${answer.text}`);
  assert.equal(answer.body.code, code, `${label}: ${answer.text}`);
}

function assertSuccess(answer: HttpAnswer, label: string): void {
  assert.equal(answer.status, 200, `${label}: ${answer.text}`);
  assert.equal(answer.text, 'success', label);
  assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/, label);
}

describe('WeChat message push', () => {
  let app: TestApp;

  const send = (built: BuiltPush, overrideQuery: Record<string, string> = {}, body = built.body) =>
    app.request('POST', `/wechat/push?${new URLSearchParams({ ...built.query, ...overrideQuery })}`, { rawBody: body, headers: { 'content-type': built.contentType } });
  const push = (message: Record<string, unknown>, options: PushOptions = {}) => send(buildWechatPush(message, CREDENTIALS, options));
  const cipher = new FieldCipher({ current: parseDataKey(TEST_DATA_KEY)!, previous: [] });
  /** The user's row, its phone number opened (it is stored encrypted). */
  const row = async (id: number) => {
    const r = (await app.db.query<WechatUserRow>('SELECT * FROM wechat_user WHERE id = $1', [id]))[0];
    return r?.mobile ? { ...r, mobile: cipher.open(r.mobile, MOBILE_PURPOSE) } : r;
  };
  const pushRows = (openId: string) => app.db.query<PushRow>('SELECT * FROM wechat_push_message WHERE open_id = $1 ORDER BY id', [openId]);
  const me = (token: string) => app.request('GET', '/users/me', { token });

  /** A logged-in user with a full profile and a verified phone number. */
  async function user(label: string): Promise<{ id: number; openId: string; token: string }> {
    const login = await app.login({ nickName: `Nick ${label}`, avatarUrl: `https://example.com/${label}.png`, unionId: `u-${label}-${createTimeSeq}`, gender: 1, city: 'Hangzhou' });
    assert.equal(login.status, 200, login.text);
    const { token, user: u } = login.body;
    const phone = await app.request('POST', '/wechat/phone', { token, body: { code: app.wechat.issuePhoneCode({ phoneNumber: '13800138000' }).code } });
    assert.equal(phone.status, 200, phone.text);
    const r = await row(u.id);
    assert.ok(r.nickname && r.avatar_url && r.mobile, 'profile and phone are set before the push');
    return { id: u.id, openId: u.openId, token };
  }

  before(async () => {
    app = await startTestApp({ env: { WECHAT_PUSH_TOKEN: TOKEN, WECHAT_PUSH_AES_KEY: AES_KEY } });
  });
  after(async () => {
    await app?.close();
  });

  describe('GET /wechat/push (URL check)', () => {
    test('the right signature gets echostr back as text/plain', async () => {
      const built = buildWechatPush({}, CREDENTIALS, { mode: 'plain' });
      const answer = await app.request('GET', `/wechat/push?${new URLSearchParams({ ...built.query, echostr: '4375120948345356249' })}`);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.text, '4375120948345356249');
      assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
    });

    test('a wrong or missing signature is 401 PUSH_SIGNATURE_MISMATCH', async () => {
      const built = buildWechatPush({}, CREDENTIALS, { mode: 'plain' });
      const wrong = await app.request('GET', `/wechat/push?${new URLSearchParams({ ...built.query, signature: '0'.repeat(40), echostr: '1' })}`);
      assertError(wrong, 401, 'PUSH_SIGNATURE_MISMATCH', 'wrong');
      const otherToken = buildWechatPush({}, { ...CREDENTIALS, token: 'anotherToken' }, { mode: 'plain' });
      assertError(await app.request('GET', `/wechat/push?${new URLSearchParams({ ...otherToken.query, echostr: '1' })}`), 401, 'PUSH_SIGNATURE_MISMATCH', 'other token');
      assertError(await app.request('GET', '/wechat/push?echostr=1'), 401, 'PUSH_SIGNATURE_MISMATCH', 'nothing signed');
    });
  });

  describe('every mode in both formats', () => {
    for (const mode of MODES) {
      for (const format of FORMATS) {
        test(`${mode} mode, ${format}: user_info_modified clears nickname and avatar`, async () => {
          const u = await user(`${mode}-${format}`);
          const answer = await push(event('user_info_modified', u.openId), { mode, format });
          assertSuccess(answer, `${mode}/${format}`);
          const r = await row(u.id);
          assert.equal(r.nickname, null);
          assert.equal(r.avatar_url, null);
          assert.equal(r.mobile, '13800138000', 'the phone number is not part of this event');
          assert.equal(r.city, 'Hangzhou');
          const profile = await me(u.token);
          assert.equal(profile.status, 200, 'the user stays logged in');
          assert.equal(profile.body.nickname, null, 'the cached profile is updated too');
          assert.equal(profile.body.avatarUrl, null);
          const [audit] = await pushRows(u.openId);
          assert.equal(audit.event, 'user_info_modified');
          assert.equal(audit.outcome, 'data_cleared');
          assert.equal(Number(audit.user_id), u.id);
          assert.equal(audit.app_id, TEST_APPID);
          assert.ok(audit.handled_at && audit.wechat_created_at);
        });
      }
    }
  });

  describe('privacy events', () => {
    test('user_authorization_revoke 6: nickname and avatar cleared, phone kept, tokens still valid', async () => {
      const u = await user('revoke6');
      assertSuccess(await push(event('user_authorization_revoke', u.openId, { RevokeInfo: '6' })), 'revoke 6');
      const r = await row(u.id);
      assert.deepEqual([r.nickname, r.avatar_url, r.mobile], [null, null, '13800138000']);
      assert.equal((await me(u.token)).status, 200);
      const [audit] = await pushRows(u.openId);
      assert.deepEqual(audit.detail, { revokeInfo: ['6'], cleared: ['nickname', 'avatarUrl'] });
    });

    test('user_authorization_revoke 8: the phone number cleared, profile kept', async () => {
      const u = await user('revoke8');
      assertSuccess(await push(event('user_authorization_revoke', u.openId, { RevokeInfo: '8' }), { format: 'json' }), 'revoke 8');
      const r = await row(u.id);
      assert.equal(r.mobile, null);
      assert.ok(r.nickname && r.avatar_url);
      assert.equal((await me(u.token)).body.mobile, null);
    });

    test('user_authorization_revoke "19,8" and "20": each code does its part', async () => {
      const u = await user('revoke19-8');
      assertSuccess(await push(event('user_authorization_revoke', u.openId, { RevokeInfo: '19,8' })), '19,8');
      const r = await row(u.id);
      assert.deepEqual([r.nickname, r.avatar_url, r.mobile], [null, null, null]);
      const v = await user('revoke20');
      assertSuccess(await push(event('user_authorization_revoke', v.openId, { RevokeInfo: '20' })), '20');
      assert.equal((await row(v.id)).nickname, null);
    });

    test('user_authorization_revoke of other authorisations (1 licence plate, 2, 3): recorded only, with the user', async () => {
      const u = await user('revoke1');
      const before = await row(u.id);
      assertSuccess(await push(event('user_authorization_revoke', u.openId, { RevokeInfo: '1' })), 'revoke 1');
      assertSuccess(await push(event('user_authorization_revoke', u.openId, { RevokeInfo: '1,2,3' })), 'revoke 1,2,3');
      assert.deepEqual(await row(u.id), before);
      const audits = await pushRows(u.openId);
      assert.deepEqual(
        audits.map((a) => [a.outcome, a.user_id === null ? null : Number(a.user_id), a.detail]),
        [
          ['recorded', u.id, { revokeInfo: ['1'] }],
          ['recorded', u.id, { revokeInfo: ['1', '2', '3'] }],
        ],
      );
    });

    test('an event or message this service does not handle names its known user in the audit row, and does nothing to them', async () => {
      const u = await user('unhandled');
      const before = await row(u.id);
      assertSuccess(await push(event('subscribe_msg_popup_event', u.openId)), 'by OpenID');
      const fromUser: Record<string, unknown> = { ...event('some_future_event', u.openId), FromUserName: u.openId };
      delete fromUser.OpenID;
      assertSuccess(await push(fromUser, { format: 'json' }), 'by FromUserName');
      const text = { ToUserName: 'gh_870882ca4b1', FromUserName: u.openId, CreateTime: now(), MsgType: 'text', Content: 'hello', MsgId: `${Date.now()}42` };
      assertSuccess(await push(text), 'a text message');
      assert.deepEqual(await row(u.id), before);
      assert.equal((await me(u.token)).status, 200);
      const audits = await pushRows(u.openId);
      assert.deepEqual(
        audits.map((a) => [a.event ?? a.msg_type, a.outcome, a.user_id === null ? null : Number(a.user_id)]),
        [
          ['subscribe_msg_popup_event', 'recorded', u.id],
          ['some_future_event', 'recorded', u.id],
          ['text', 'recorded', u.id],
        ],
      );
    });

    test('the user is found by FromUserName when OpenID is absent', async () => {
      const u = await user('from-user');
      const message: Record<string, unknown> = { ...event('user_info_modified', u.openId), FromUserName: u.openId };
      delete message.OpenID;
      assertSuccess(await push(message), 'FromUserName');
      assert.equal((await row(u.id)).nickname, null);
    });

    test('user_authorization_cancellation: as DELETE /users/me, and the old token answers 401', async () => {
      const u = await user('cancel');
      const sessionKeys = app.running.app.get(SessionKeyStore);
      assert.ok(await sessionKeys.get(TEST_APPID, u.openId), 'a session_key is stored before');
      const before = await row(u.id);
      assertSuccess(await push(event('user_authorization_cancellation', u.openId)), 'cancellation');
      const r = await row(u.id);
      assert.ok(r.deleted_at, 'deleted_at is set');
      for (const column of ['nickname', 'avatar_url', 'gender', 'country', 'province', 'city', 'mobile', 'union_id'] as const) assert.equal(r[column], null, column);
      assert.equal(r.token_version, before.token_version + 1, 'the token version is bumped once');
      assert.equal(await sessionKeys.get(TEST_APPID, u.openId), undefined, 'the session_key is dropped');
      const refused = await me(u.token);
      assertError(refused, 401, 'UNAUTHORIZED', 'old token');
      const [audit] = await pushRows(u.openId);
      assert.equal(audit.outcome, 'account_deleted');
      // A later login reactivates the account, empty.
      const again = await app.login({ openId: u.openId }, 'code');
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.user.id, u.id);
      assert.equal(again.body.user.nickname, null);
    });

    test('an event for an unknown openid, and an event this service does not handle: success, recorded', async () => {
      assertSuccess(await push(event('user_info_modified', 'oNobodyHasThisOpenid000000')), 'unknown user');
      assert.equal((await pushRows('oNobodyHasThisOpenid000000'))[0].outcome, 'user_not_found');
      assertSuccess(await push(event('subscribe_msg_popup_event', 'oSomeoneElse00000000000001')), 'unhandled event');
      assert.equal((await pushRows('oSomeoneElse00000000000001'))[0].outcome, 'recorded');
      assert.equal((await pushRows('oSomeoneElse00000000000001'))[0].user_id, null, 'no such user');
      assertSuccess(await push(event('user_authorization_revoke', 'oNobodyHasThisOpenid000001', { RevokeInfo: '1,2,3' })), 'revoke, unknown user');
      const [revoked] = await pushRows('oNobodyHasThisOpenid000001');
      assert.deepEqual([revoked.outcome, revoked.user_id], ['recorded', null]);
      const text = { ToUserName: 'gh_870882ca4b1', FromUserName: 'oTextSender000000000000001', CreateTime: now(), MsgType: 'text', Content: 'hello', MsgId: '4561255354251345929' };
      assertSuccess(await push(text, { format: 'json' }), 'text message');
      const [audit] = await pushRows('oTextSender000000000000001');
      assert.equal(audit.msg_type, 'text');
      assert.equal(audit.outcome, 'recorded');
    });
  });

  describe('retries', () => {
    test('a retried message is answered success and handled once', async () => {
      const u = await user('retry');
      const built = buildWechatPush(event('user_authorization_revoke', u.openId, { RevokeInfo: '6' }), CREDENTIALS, { mode: 'safe' });
      assertSuccess(await send(built), 'first delivery');
      assert.equal((await row(u.id)).nickname, null);
      // The user sets a nickname again; WeChat's retry of the old message must not erase it.
      const patched = await app.request('PATCH', '/users/me', { token: u.token, body: { nickname: 'Chosen again' } });
      assert.equal(patched.status, 200, patched.text);
      for (let i = 0; i < 3; i++) assertSuccess(await send(built), `retry ${i + 1}`);
      assert.equal((await row(u.id)).nickname, 'Chosen again');
      assert.equal((await pushRows(u.openId)).length, 1);
    });

    test('a retry in another encoding of the same message (new nonce and timestamp) is still the same message', async () => {
      const u = await user('retry-reencoded');
      const message = event('user_authorization_cancellation', u.openId);
      assertSuccess(await push(message, { mode: 'safe', format: 'xml' }), 'first');
      const version = (await row(u.id)).token_version;
      assertSuccess(await push(message, { mode: 'safe', format: 'xml' }), 'retry');
      assert.equal((await row(u.id)).token_version, version);
      assert.equal((await pushRows(u.openId)).length, 1);
    });

    test('a signed push query is good for one message: retried with its message it is success, reused with another (or downgraded to plain mode) 401 and nothing done', async () => {
      const [victim, other] = [await user('plain-reuse-victim'), await user('plain-reuse-other')];
      const captured = buildWechatPush(event('user_authorization_revoke', other.openId, { RevokeInfo: '6' }), CREDENTIALS, { mode: 'plain', format: 'xml' });
      assertSuccess(await send(captured), 'the genuine message');
      assertSuccess(await send(captured), 'WeChat retrying it with the same query');
      const forged = buildWechatPush(event('user_authorization_cancellation', victim.openId), CREDENTIALS, { mode: 'plain', format: 'xml' });
      for (const [label, body] of [
        ['another message', forged.body],
        ['the same message plus a field', captured.body.replace('</xml>', '<Extra>1</Extra></xml>')],
      ]) {
        assertError(await send(captured, {}, body), 401, 'PUSH_SIGNATURE_MISMATCH', label);
      }
      // The query of a compatible-mode push carries `signature` too: stripped of encrypt_type, it would pass for plain mode.
      const compatible = buildWechatPush(event('user_authorization_revoke', other.openId, { RevokeInfo: '8' }), CREDENTIALS, { mode: 'compatible', format: 'xml' });
      assertSuccess(await send(compatible), 'the genuine compatible-mode message');
      assertError(await send(compatible, { encrypt_type: '', msg_signature: '' }, forged.body), 401, 'PUSH_SIGNATURE_MISMATCH', 'its query, downgraded to plain mode');
      assert.equal((await row(victim.id)).deleted_at, null, 'the victim was not deleted');
      assert.deepEqual(await pushRows(victim.openId), []);
    });

    test('simultaneous deliveries of one message: all success, handled once', async () => {
      const u = await user('concurrent');
      const before = await row(u.id);
      const built = buildWechatPush(event('user_authorization_cancellation', u.openId), CREDENTIALS, { mode: 'safe', format: 'json' });
      const answers = await Promise.all([send(built), send(built), send(built), send(built)]);
      answers.forEach((a, i) => assertSuccess(a, `delivery ${i}`));
      assert.equal((await row(u.id)).token_version, before.token_version + 1);
      const rows = await pushRows(u.openId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].outcome, 'account_deleted');
    });
  });

  describe('an attempt that died without releasing its claim', () => {
    const claimAs = (message: Record<string, unknown>, ageSeconds: number) =>
      app.db.query(`INSERT INTO wechat_push_message (dedup_key, open_id, event, outcome, claimed_at) VALUES ($1, $2, $3, 'processing', now() - make_interval(secs => $4))`, [
        dedupKey(readPushMessage(message), TEST_APPID),
        message.OpenID,
        message.Event,
        ageSeconds,
      ]);

    test('a claim that is still fresh makes the retry wait, then 503 (WeChat retries later)', async () => {
      const u = await user('claimed-fresh');
      const message = event('user_info_modified', u.openId);
      await claimAs(message, 0);
      assertError(await push(message), 503, 'SERVICE_UNAVAILABLE', 'in flight elsewhere');
      assert.ok((await row(u.id)).nickname, 'nothing done');
    });

    test('a stale claim (its handler died) is taken over and the work done', async () => {
      const u = await user('claimed-stale');
      const message = event('user_info_modified', u.openId);
      await claimAs(message, 60);
      assertSuccess(await push(message), 'taken over');
      assert.equal((await row(u.id)).nickname, null);
      const rows = await pushRows(u.openId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].outcome, 'data_cleared');
    });
  });

  describe('refused pushes change nothing', () => {
    test('tampered signatures, bodies and stale or future timestamps: 401', async () => {
      const u = await user('tampered');
      const before = await row(u.id);
      const message = event('user_authorization_cancellation', u.openId);
      const safe = buildWechatPush(message, CREDENTIALS, { mode: 'safe' });
      assertError(await send(safe, { msg_signature: safe.query.msg_signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }), 401, 'PUSH_SIGNATURE_MISMATCH', 'msg_signature');
      assertError(await send(safe, { signature: '0'.repeat(40) }), 401, 'PUSH_SIGNATURE_MISMATCH', 'signature');
      assertError(await send(safe, { nonce: '123' }), 401, 'PUSH_SIGNATURE_MISMATCH', 'nonce');
      const other = buildWechatPush(event('user_authorization_cancellation', 'oSomeoneElse'), CREDENTIALS, { mode: 'safe' });
      assertError(await send(safe, {}, other.body), 401, 'PUSH_SIGNATURE_MISMATCH', 'another Encrypt under this signature');
      const forged = buildWechatPush(message, { ...CREDENTIALS, token: 'attackerToken' }, { mode: 'safe' });
      assertError(await send(forged), 401, 'PUSH_SIGNATURE_MISMATCH', 'signed with another token');
      const plain = buildWechatPush(message, CREDENTIALS, { mode: 'plain' });
      assertError(await send(plain, { signature: plain.query.signature.slice(0, -2) + '00' }), 401, 'PUSH_SIGNATURE_MISMATCH', 'plain signature');
      for (const [label, timestamp] of [
        ['stale', now() - 600],
        ['future', now() + 600],
      ] as const) {
        const old = buildWechatPush(message, CREDENTIALS, { mode: 'safe', timestamp });
        assertError(await send(old), 401, 'PUSH_SIGNATURE_MISMATCH', `${label}, correctly signed`);
      }
      assert.deepEqual(await row(u.id), before);
      assert.equal((await pushRows(u.openId)).length, 0);
      assert.equal((await me(u.token)).status, 200);
    });

    test('encrypted with another key or for another appid: 400 DECRYPT_FAILED', async () => {
      const u = await user('wrong-key');
      const message = event('user_info_modified', u.openId);
      assertError(await send(buildWechatPush(message, { ...CREDENTIALS, encodingAesKey: 'A'.repeat(43) }, { mode: 'safe' })), 400, 'DECRYPT_FAILED', 'other key');
      assertError(await send(buildWechatPush(message, { ...CREDENTIALS, appId: 'wx0000000000000000' }, { mode: 'safe' })), 400, 'DECRYPT_FAILED', 'other appid');
      assert.ok((await row(u.id)).nickname);
    });

    test('an entity bomb or any DOCTYPE is refused (400), outside and inside the encryption; the service stays up', async () => {
      const bomb =
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">' +
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>' +
        '<xml><ToUserName>gh_1</ToUserName><MsgType>event</MsgType><Event>&e;</Event><OpenID>&e;</OpenID></xml>';
      const plain = buildWechatPush({}, CREDENTIALS, { mode: 'plain' });
      const outside = await send(plain, {}, bomb);
      assertError(outside, 400, 'VALIDATION_FAILED', 'bomb in the body');
      const xxe = '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh_1</ToUserName><Content>&x;</Content></xml>';
      assertError(await send(plain, {}, xxe), 400, 'VALIDATION_FAILED', 'external entity');
      // The same inside a correctly signed, correctly encrypted message.
      const crypto = new WechatPushCrypto(TOKEN, AES_KEY, TEST_APPID);
      const encrypt = crypto.encrypt(bomb);
      const timestamp = String(now());
      const nonce = '77777';
      const inner = await app.request(
        'POST',
        `/wechat/push?${new URLSearchParams({ timestamp, nonce, encrypt_type: 'aes', msg_signature: crypto.sign(timestamp, nonce, encrypt), signature: crypto.sign(timestamp, nonce) })}`,
        { rawBody: `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`, headers: { 'content-type': 'text/xml' } },
      );
      assertError(inner, 400, 'DECRYPT_FAILED', 'bomb inside Encrypt');
      assert.doesNotMatch(inner.text, /aaaaaaaaaa/);
      assert.equal((await app.request('GET', '/health')).status, 200);
    });

    describe('an unauthenticated push is 401 whatever its body', () => {
      const XML = 'text/xml';
      const JSON_TYPE = 'application/json';
      const DOCTYPE = '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh_1</ToUserName><Content>&x;</Content></xml>';
      /** Bodies nothing can be read from, by content type. */
      const MALFORMED: [string, string, string][] = [
        ['unclosed XML', XML, '<xml><a>1</a>'],
        ['DOCTYPE', XML, DOCTYPE],
        ['empty XML', XML, ''],
        ['<xml></xml>', XML, '<xml></xml>'],
        ['JSON array', JSON_TYPE, '[1]'],
        ['broken JSON', JSON_TYPE, '{"a":'],
        ['JSON null', JSON_TYPE, 'null'],
        ['text/plain', 'text/plain', 'hello'],
      ];
      const post = (query: Record<string, string>, contentType: string, body: string) =>
        app.request('POST', `/wechat/push?${new URLSearchParams(query)}`, { rawBody: body, headers: { 'content-type': contentType } });

      test('a wrong signature, a stale timestamp or no query at all: 401 before the body is looked at', async () => {
        const signed = buildWechatPush({}, CREDENTIALS, { mode: 'plain' }).query;
        const queries: [string, Record<string, string>][] = [
          ['wrong signature', { signature: '0'.repeat(40), timestamp: String(now()), nonce: '1' }],
          ['stale timestamp, correctly signed', buildWechatPush({}, CREDENTIALS, { mode: 'plain', timestamp: now() - 600 }).query],
          ['no query', {}],
          ['signature of another nonce', { ...signed, nonce: `${signed.nonce}1` }],
          ['no signature, plain mode', { timestamp: signed.timestamp, nonce: signed.nonce }],
          ['no signature, unknown encrypt_type', { timestamp: signed.timestamp, nonce: signed.nonce, encrypt_type: 'des', msg_signature: '0'.repeat(40) }],
        ];
        for (const [queryLabel, query] of queries) {
          for (const [bodyLabel, contentType, body] of [...MALFORMED, ['well-formed XML', XML, buildPushXml(event('user_info_modified', 'oNobody'))] as [string, string, string]]) {
            assertError(await post(query, contentType, body), 401, 'PUSH_SIGNATURE_MISMATCH', `${queryLabel}, ${bodyLabel}`);
          }
        }
        assertError(await app.request('POST', '/wechat/push'), 401, 'PUSH_SIGNATURE_MISMATCH', 'no query, no body');
        const huge = `<xml><Content><![CDATA[${'x'.repeat(70 * 1024)}]]></Content></xml>`;
        assertError(await post({ signature: '0'.repeat(40), timestamp: String(now()), nonce: '1' }, XML, huge), 401, 'PUSH_SIGNATURE_MISMATCH', 'wrong signature, over 64 KiB');
      });

      test('safe mode (msg_signature only): a body without a readable Encrypt cannot be authenticated: 401', async () => {
        const crypto = new WechatPushCrypto(TOKEN, AES_KEY, TEST_APPID);
        const timestamp = String(now());
        const nonce = '424242';
        const encrypt = crypto.encrypt(buildPushXml(event('user_info_modified', 'oNobody')));
        // Right for that Encrypt, but the body it is in cannot be read.
        const query = { timestamp, nonce, encrypt_type: 'aes', msg_signature: crypto.sign(timestamp, nonce, encrypt) };
        const broken: [string, string, string][] = [
          ['Encrypt in unclosed XML', XML, `<xml><ToUserName>gh_1</ToUserName><Encrypt>${encrypt}</Encrypt>`],
          ['Encrypt after a DOCTYPE', XML, `<!DOCTYPE xml><xml><ToUserName>gh_1</ToUserName><Encrypt>${encrypt}</Encrypt></xml>`],
          ['Encrypt in broken JSON', JSON_TYPE, `{"Encrypt":"${encrypt}"`],
          ['Encrypt in a JSON array', JSON_TYPE, JSON.stringify([{ Encrypt: encrypt }])],
          ['no Encrypt (XML)', XML, '<xml><ToUserName>gh_1</ToUserName></xml>'],
          ['no Encrypt (JSON)', JSON_TYPE, '{"ToUserName":"gh_1"}'],
          ['Encrypt not a string', JSON_TYPE, '{"Encrypt":42}'],
        ];
        for (const [label, contentType, body] of [...MALFORMED, ...broken]) {
          assertError(await post(query, contentType, body), 401, 'PUSH_SIGNATURE_MISMATCH', label);
          assertError(await post({ ...query, msg_signature: '0'.repeat(40) }, contentType, body), 401, 'PUSH_SIGNATURE_MISMATCH', `${label}, wrong msg_signature`);
        }
        // The same Encrypt in a readable body opens.
        assertSuccess(await post(query, XML, `<xml><ToUserName>gh_1</ToUserName><Encrypt>${encrypt}</Encrypt></xml>`), 'readable body');
      });

      test('correctly signed (plain signature), a malformed body stays 400', async () => {
        const plain = buildWechatPush({}, CREDENTIALS, { mode: 'plain' });
        for (const [label, contentType, body] of MALFORMED.filter(([, type]) => type !== 'text/plain')) {
          assertError(await post(plain.query, contentType, body), 400, 'VALIDATION_FAILED', label);
        }
        const compatible = buildWechatPush({}, CREDENTIALS, { mode: 'compatible' });
        assertError(await post(compatible.query, XML, '<xml><a>1</a>'), 400, 'VALIDATION_FAILED', 'compatible mode, unclosed XML');
        assertError(await post(compatible.query, JSON_TYPE, '{"ToUserName":"gh_1"}'), 400, 'VALIDATION_FAILED', 'compatible mode, no Encrypt');
        assertError(await post(plain.query, 'text/plain', 'hello'), 415, 'UNSUPPORTED_MEDIA_TYPE', 'text/plain');
      });
    });

    test('malformed bodies: 400; XML elsewhere stays 415; over 64 KiB: 413', async () => {
      const plain = buildWechatPush({}, CREDENTIALS, { mode: 'plain' });
      assertError(await send(plain, {}, '<xml><A>1</B></xml>'), 400, 'VALIDATION_FAILED', 'not well-formed');
      assertError(await send({ ...plain, contentType: 'application/json' }, {}, '{"a":'), 400, 'VALIDATION_FAILED', 'bad JSON');
      const textPlain = await app.request('POST', `/wechat/push?${new URLSearchParams(plain.query)}`, { rawBody: 'hello', headers: { 'content-type': 'text/plain' } });
      assertError(textPlain, 415, 'UNSUPPORTED_MEDIA_TYPE', 'text/plain');
      const elsewhere = await app.request('POST', '/wechat/login', { rawBody: '<xml><code>x</code></xml>', headers: { 'content-type': 'text/xml' } });
      assertError(elsewhere, 415, 'UNSUPPORTED_MEDIA_TYPE', 'XML on /wechat/login');
      const huge = `<xml><Content><![CDATA[${'x'.repeat(70 * 1024)}]]></Content></xml>`;
      assertError(await send(plain, {}, huge), 413, 'PAYLOAD_TOO_LARGE', 'too large');
    });
  });

  describe('wxa_media_check (the avatar flow’s hook)', () => {
    const mediaCheck = (openId: string, traceId: string, suggest: string) => ({
      ToUserName: 'gh_870882ca4b1',
      FromUserName: openId,
      CreateTime: now(),
      MsgType: 'event',
      Event: 'wxa_media_check',
      appid: TEST_APPID,
      trace_id: traceId,
      version: 2,
      result: { suggest, label: 100 },
      detail: [{ strategy: 'content_model', errcode: 0, suggest, label: 100, prob: 90 }],
      errcode: 0,
      errmsg: 'ok',
    });

    test('verdicts reach the avatar flow once however often WeChat retries; recorded with trace_id and verdict', async () => {
      const u = await user('media');
      // An avatar check in progress, as PUT /users/me/avatar leaves it.
      const mediaUrl = 'https://api.example.test/avatars/AAAAAAAAAAAAAAAAAAAAAA';
      await app.db.query(`INSERT INTO content_check (user_id, kind, trace_id, verdict, media_url) VALUES ($1, 'avatar', 'trace-risky-1', 'pending', $2)`, [u.id, mediaUrl]);
      await app.db.query(`UPDATE wechat_user SET avatar_pending_url = $2 WHERE id = $1`, [u.id, mediaUrl]);

      const built = buildWechatPush(mediaCheck(u.openId, 'trace-risky-1', 'risky'), CREDENTIALS, { mode: 'safe', format: 'json' });
      assertSuccess(await send(built), 'the verdict');
      assertSuccess(await send(built), 'WeChat’s retry');
      assertSuccess(await send(built), 'a second retry');
      const rows = await pushRows(u.openId);
      assert.equal(rows.length, 1, 'handled once');
      assert.equal(rows[0].outcome, 'avatar_rejected');
      assert.equal(Number(rows[0].user_id), u.id);
      assert.deepEqual(rows[0].detail, { traceId: 'trace-risky-1', suggest: 'risky', label: '100' });
      const [check] = await app.db.query<{ verdict: string }>(`SELECT verdict FROM content_check WHERE trace_id = 'trace-risky-1'`);
      assert.equal(check.verdict, 'risky');
      const [row] = await app.db.query<{ avatar_pending_url: string | null }>('SELECT avatar_pending_url FROM wechat_user WHERE id = $1', [u.id]);
      assert.equal(row.avatar_pending_url, null);
    });

    test('a verdict for a check this service never started is answered success and recorded as unknown', async () => {
      const u = await user('media-unknown');
      assertSuccess(await push(mediaCheck(u.openId, 'trace-nobody-started', 'pass')), 'unknown trace');
      const [row] = await pushRows(u.openId);
      assert.equal(row.outcome, 'avatar_unknown');
    });
  });

  test('the log holds no Encrypt value, Token or EncodingAESKey', async () => {
    const built = buildWechatPush(event('user_info_modified', 'oLogCheck0000000000000001'), CREDENTIALS, { mode: 'safe', format: 'json' });
    assertSuccess(await send(built), 'push');
    const log = app.logLines.join('');
    assert.ok(!log.includes(TOKEN), 'token in the log');
    assert.ok(!log.includes(AES_KEY), 'EncodingAESKey in the log');
    assert.ok(!log.includes(built.query.msg_signature), 'msg_signature in the log');
    assert.ok(!log.includes(JSON.parse(built.body).Encrypt.slice(0, 40)), 'Encrypt in the log');
    assert.match(log, /push handled/, 'the push itself was logged (without its content)');
  });

  test('documented in OpenAPI: public, text/plain answers, error responses', async () => {
    const doc = (await app.request('GET', '/docs-json')).body;
    for (const method of ['get', 'post']) {
      const op = doc.paths['/wechat/push']?.[method];
      assert.ok(op, `${method} /wechat/push is not documented`);
      assert.deepEqual(op.security, [], `${method} needs no bearer`);
      assert.ok(op.responses['200'].content['text/plain'], `${method} answers text/plain`);
      // The shared ErrorResponse, narrowed to this route's codes.
      const [shared, narrowed] = op.responses['401'].content['application/json'].schema.allOf;
      assert.equal(shared.$ref, '#/components/schemas/ErrorResponse');
      assert.ok(narrowed.properties.code.enum.includes('PUSH_SIGNATURE_MISMATCH'));
      assert.ok(op.responses['404'], `${method} documents 404`);
    }
  });
});

describe('a push for a user whose row is locked', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { WECHAT_PUSH_TOKEN: TOKEN, WECHAT_PUSH_AES_KEY: AES_KEY, DATABASE_STATEMENT_TIMEOUT_MS: '300' } });
  });
  after(async () => {
    await app?.close();
  });

  test('answers 503 once the statement timeout passes; the retry after the lock does the work, once', async () => {
    const login = await app.login({ nickName: 'Locked', avatarUrl: 'https://example.com/locked.png' });
    assert.equal(login.status, 200, login.text);
    const { id, openId } = login.body.user;
    const built = buildWechatPush(event('user_info_modified', openId), CREDENTIALS, { mode: 'safe' });
    const send = () => app.request('POST', `/wechat/push?${new URLSearchParams(built.query)}`, { rawBody: built.body, headers: { 'content-type': built.contentType } });
    const locker = new Client({ connectionString: app.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM wechat_user WHERE id = $1 FOR UPDATE', [id]);
      const started = Date.now();
      assertError(await send(), 503, 'SERVICE_UNAVAILABLE', 'while locked');
      // The lock would hold forever: the answer came after the 300 ms statement timeout (and slack for a loaded machine).
      assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
      await locker.query('ROLLBACK');
    } finally {
      await locker.end().catch(() => undefined);
    }
    assertSuccess(await send(), "WeChat's retry");
    assertSuccess(await send(), 'another retry');
    const [user] = await app.db.query<WechatUserRow>('SELECT * FROM wechat_user WHERE id = $1', [id]);
    assert.equal(user.nickname, null);
    const rows = await app.db.query<PushRow>('SELECT * FROM wechat_push_message WHERE open_id = $1', [openId]);
    assert.deepEqual(
      rows.map((r) => [r.outcome, Number(r.user_id)]),
      [['data_cleared', id]],
    );
  });
});

describe('WeChat message push without a Token configured', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });

  test('GET and POST /wechat/push answer 404 NOT_FOUND, as an unknown route', async () => {
    const built = buildWechatPush({ ToUserName: 'gh_1', MsgType: 'event', Event: 'user_info_modified' }, CREDENTIALS, { mode: 'plain', format: 'json' });
    const get = await app.request('GET', `/wechat/push?${new URLSearchParams({ ...built.query, echostr: '1' })}`);
    assertError(get, 404, 'NOT_FOUND', 'GET');
    const post = await app.request('POST', `/wechat/push?${new URLSearchParams(built.query)}`, { rawBody: built.body, headers: { 'content-type': built.contentType } });
    assertError(post, 404, 'NOT_FOUND', 'POST');
    const unknown = await app.request('GET', '/no/such/route');
    assert.deepEqual(get.body, unknown.body);
  });
});

describe('sandbox: POST /sandbox/push', () => {
  let sandbox: SandboxApp;
  let running: RunningApp;
  let db: TestDatabase;
  let baseUrl: string;
  const call = (method: string, path: string, opts?: Parameters<typeof callApp>[3]) => callApp(baseUrl, method, path, opts);

  before(async () => {
    sandbox = await startSandboxApp();
    ({ running, db, baseUrl } = sandbox);
  });
  after(() => sandbox?.close());

  async function sandboxUser(nickName: string): Promise<{ token: string; openId: string; id: number }> {
    const wx = await call('POST', '/sandbox/wx-login', { body: { nickName, avatarUrl: 'https://example.com/a.png' } });
    assert.equal(wx.status, 200, wx.text);
    const login = await call('POST', '/wechat/login', { body: wx.body });
    assert.equal(login.status, 200, login.text);
    return { token: login.body.token, openId: login.body.user.openId, id: login.body.user.id };
  }

  test('a revoke pushed by the sandbox (signed, encrypted, over HTTP) clears the profile', async () => {
    assert.ok(running.simulator, 'sandbox mode');
    assert.ok(running.config.wechat.apps[0].pushToken && running.config.wechat.apps[0].pushAesKey, 'the sandbox made its own Token and EncodingAESKey');
    const u = await sandboxUser('Sandbox Pushed');
    const answer = await call('POST', '/sandbox/push', { body: { event: 'user_authorization_revoke', openId: u.openId, revokeInfo: '6' } });
    assert.equal(answer.status, 202, answer.text);
    assert.equal(answer.body.status, 200);
    assert.equal(answer.body.answer, 'success');
    assert.equal(answer.body.mode, 'safe');
    const me = await call('GET', '/users/me', { token: u.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.nickname, null);
    assert.equal(me.body.avatarUrl, null);
    const [audit] = await db.query<PushRow>('SELECT * FROM wechat_push_message WHERE open_id = $1', [u.openId]);
    assert.equal(audit.outcome, 'data_cleared');
  });

  test('a cancellation pushed by the sandbox revokes the token', async () => {
    const u = await sandboxUser('Sandbox Cancelled');
    const answer = await call('POST', '/sandbox/push', { body: { event: 'user_authorization_cancellation', openId: u.openId } });
    assert.equal(answer.status, 202, answer.text);
    assert.equal(answer.body.answer, 'success');
    assert.equal((await call('GET', '/users/me', { token: u.token })).status, 401);
  });

  test('bad requests are 400', async () => {
    const bad = await call('POST', '/sandbox/push', { body: { event: 'something_else', openId: 'o1' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    const noOpenId = await call('POST', '/sandbox/push', { body: { event: 'user_info_modified' } });
    assert.equal(noOpenId.status, 400);
  });
});
