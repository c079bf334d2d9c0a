import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError, ValidationFailedError } from '../common/errors/app-error';
import { MalformedBody } from '../common/http/json-body-parser';
import { buildWechatPush } from '../sandbox/wechat-push-sender';
import type { XmlBody } from './push-body-parser';
import { PushClock } from './push-clock';
import { PushRequestVerifier } from './push-request-verifier';
import { parsePushXml } from './push-xml';
import { WechatPushCrypto } from './wechat-push-crypto';

const CREDENTIALS = { token: 'QDG6eK', encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', appId: 'wx5823bf96d3bd56c7' };
const crypto = new WechatPushCrypto(CREDENTIALS.token, CREDENTIALS.encodingAesKey, CREDENTIALS.appId);
const T0 = 1_800_000_000;

class FixedClock extends PushClock {
  constructor(public seconds: number) {
    super();
  }
  override nowMs(): number {
    return this.seconds * 1000;
  }
}

const message = { ToUserName: 'gh_1', FromUserName: 'oUser', CreateTime: T0, MsgType: 'event', Event: 'user_info_modified', OpenID: 'oUser', AppID: CREDENTIALS.appId };

/** The body as the route hands it over: parsed XML or parsed JSON. */
function received(push: ReturnType<typeof buildWechatPush>): unknown {
  return push.contentType === 'text/xml' ? ({ format: 'xml', fields: parsePushXml(push.body) } satisfies XmlBody) : JSON.parse(push.body);
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : `not an AppError: ${String(err)}`;
  }
  return undefined;
}

describe('PushRequestVerifier (clock injected)', () => {
  for (const mode of ['plain', 'compatible', 'safe'] as const) {
    for (const format of ['xml', 'json'] as const) {
      test(`${mode} mode, ${format}: opens to the message`, () => {
        const push = buildWechatPush(message, CREDENTIALS, { mode, format, timestamp: T0 });
        const opened = new PushRequestVerifier(new FixedClock(T0)).open(crypto, push.query, received(push));
        assert.equal(opened.mode, mode);
        assert.equal(opened.format, format);
        assert.equal(String(opened.message.Event), 'user_info_modified');
        assert.equal(String(opened.message.CreateTime), String(T0));
      });
    }
  }

  test('freshness: 300 s either way is accepted, 301 s is refused', () => {
    const push = buildWechatPush(message, CREDENTIALS, { mode: 'safe', timestamp: T0 });
    for (const now of [T0 - 300, T0 + 300])
      assert.equal(
        code(() => new PushRequestVerifier(new FixedClock(now)).open(crypto, push.query, received(push))),
        undefined,
      );
    for (const now of [T0 - 301, T0 + 301, T0 + 86400])
      assert.equal(
        code(() => new PushRequestVerifier(new FixedClock(now)).open(crypto, push.query, received(push))),
        'PUSH_SIGNATURE_MISMATCH',
      );
  });

  describe('wrong or missing signatures are refused', () => {
    const verifier = new PushRequestVerifier(new FixedClock(T0));
    const safe = buildWechatPush(message, CREDENTIALS, { mode: 'safe', timestamp: T0 });
    const plain = buildWechatPush(message, CREDENTIALS, { mode: 'plain', timestamp: T0 });
    const without = (q: Record<string, string>, k: string) => Object.fromEntries(Object.entries(q).filter(([key]) => key !== k));
    const cases: { name: string; query: Record<string, string>; push: ReturnType<typeof buildWechatPush> }[] = [
      { name: 'safe mode, wrong msg_signature', query: { ...safe.query, msg_signature: '0'.repeat(40) }, push: safe },
      { name: 'safe mode, no msg_signature', query: without(safe.query, 'msg_signature'), push: safe },
      { name: 'safe mode, wrong signature', query: { ...safe.query, signature: '0'.repeat(40) }, push: safe },
      { name: 'plain mode, wrong signature', query: { ...plain.query, signature: '0'.repeat(40) }, push: plain },
      { name: 'plain mode, no signature', query: without(plain.query, 'signature'), push: plain },
      { name: 'plain mode, another nonce', query: { ...plain.query, nonce: '1' }, push: plain },
      { name: 'plain mode, a timestamp that is no number', query: { ...plain.query, timestamp: 'abc' }, push: plain },
      {
        // The safe-mode signature covers Encrypt, so another body under it is refused.
        name: 'safe mode, another body under a valid signature',
        query: safe.query,
        push: buildWechatPush({ ...message, Event: 'user_authorization_cancellation' }, CREDENTIALS, { mode: 'safe', timestamp: T0, nonce: safe.query.nonce }),
      },
    ];
    for (const c of cases) {
      test(c.name, () => {
        assert.equal(
          code(() => verifier.open(crypto, c.query, received(c.push))),
          'PUSH_SIGNATURE_MISMATCH',
        );
      });
    }
  });

  describe('authentication comes before the body', () => {
    const verifier = new PushRequestVerifier(new FixedClock(T0));
    const plain = buildWechatPush(message, CREDENTIALS, { mode: 'plain', timestamp: T0 });
    const safe = buildWechatPush(message, CREDENTIALS, { mode: 'safe', timestamp: T0 });
    const safeOnly = Object.fromEntries(Object.entries(safe.query).filter(([key]) => key !== 'signature'));
    const malformed = new MalformedBody(new ValidationFailedError('Malformed XML body'));
    const unreadable: [string, unknown][] = [
      ['a body that did not parse', malformed],
      ['a JSON array', [1]],
      ['no body', undefined],
      ['an object without Encrypt', { ToUserName: 'gh_1' }],
      ['XML without Encrypt', { format: 'xml', fields: { ToUserName: 'gh_1' } } satisfies XmlBody],
      ['an Encrypt that is no string', { Encrypt: 42 }],
    ];

    test('checkQuery: the signature and timestamp alone, or msg_signature still to be checked', () => {
      assert.deepEqual(verifier.checkQuery(crypto, plain.query), { bySignature: true, timestamp: String(T0), nonce: plain.query.nonce });
      assert.equal(verifier.checkQuery(crypto, safeOnly).bySignature, false);
      for (const [label, query] of [
        ['no query', {}],
        ['wrong signature', { ...plain.query, signature: '0'.repeat(40) }],
        ['stale, correctly signed', buildWechatPush(message, CREDENTIALS, { mode: 'plain', timestamp: T0 - 301 }).query],
        ['no signature in plain mode', { timestamp: plain.query.timestamp, nonce: plain.query.nonce }],
        ['no signature, encrypt_type not aes', { ...safeOnly, encrypt_type: 'des' }],
        ['no signature, no msg_signature', { ...safeOnly, msg_signature: '' }],
      ] as const) {
        assert.equal(
          code(() => verifier.checkQuery(crypto, query)),
          'PUSH_SIGNATURE_MISMATCH',
          label,
        );
      }
    });

    for (const [label, body] of unreadable) {
      test(`${label}: 401 when only msg_signature could authenticate it, 400 when signed`, () => {
        assert.equal(
          code(() => verifier.open(crypto, safeOnly, body)),
          'PUSH_SIGNATURE_MISMATCH',
        );
        assert.equal(
          code(() => verifier.open(crypto, { ...plain.query, signature: '0'.repeat(40) }, body)),
          'PUSH_SIGNATURE_MISMATCH',
        );
        assert.equal(
          code(() => verifier.open(crypto, safe.query, body)),
          'VALIDATION_FAILED',
          'compatible/safe mode with a right signature',
        );
      });
    }

    test('a body that did not parse, correctly signed in plain mode: its own 400', () => {
      assert.throws(
        () => verifier.open(crypto, plain.query, malformed),
        (err) => err === malformed.error,
      );
    });
  });

  test('compatible mode uses the decrypted message, not the plain copy next to it', () => {
    const push = buildWechatPush(message, CREDENTIALS, { mode: 'compatible', format: 'json', timestamp: T0 });
    const body = JSON.parse(push.body);
    body.Event = 'user_authorization_cancellation'; // not covered by any signature
    const opened = new PushRequestVerifier(new FixedClock(T0)).open(crypto, push.query, body);
    assert.equal(opened.message.Event, 'user_info_modified');
  });

  test('URL check: echostr for the right signature, 401 otherwise', () => {
    const verifier = new PushRequestVerifier(new FixedClock(T0));
    const aaaaa = new WechatPushCrypto('AAAAA', undefined, 'wx');
    // WeChat's documented example: an old timestamp is fine for a URL check.
    const query = { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', echostr: '4375120948345356249', timestamp: '1714036504', nonce: '1514711492' };
    assert.equal(verifier.verifyUrl(aaaaa, query), '4375120948345356249');
    for (const wrong of [
      { ...query, signature: 'f464b24fc39322e44b38aa78f5edd27bd1441697' },
      { ...query, nonce: '1514711493' },
    ]) {
      assert.equal(
        code(() => verifier.verifyUrl(aaaaa, wrong)),
        'PUSH_SIGNATURE_MISMATCH',
      );
    }
  });
});
