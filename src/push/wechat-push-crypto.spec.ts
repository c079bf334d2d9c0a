import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePushXml } from './push-xml';
import { PushDecryptFailedError } from './push.errors';
import { WechatPushCrypto } from './wechat-push-crypto';

/** WeChat's published WXBizMsgCrypt sample (the same values in every language of its demo). */
const SAMPLE = {
  token: 'QDG6eK',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  appId: 'wx5823bf96d3bd56c7',
  msgSignature: '477715d11cdb4164915debcba66cb864d751f3e6',
  timestamp: '1409659813',
  nonce: '1372623149',
  encrypt:
    'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
};

const sample = () => new WechatPushCrypto(SAMPLE.token, SAMPLE.encodingAesKey, SAMPLE.appId);

describe('WechatPushCrypto against WeChat’s published sample', () => {
  test('msg_signature of the sample is SHA-1 over sorted [token, timestamp, nonce, Encrypt]', () => {
    assert.equal(sample().sign(SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt), SAMPLE.msgSignature);
    assert.equal(sample().verify(SAMPLE.msgSignature, SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt), true);
    assert.equal(sample().verify(SAMPLE.msgSignature.toUpperCase(), SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt), true, 'hex case does not matter');
  });

  test('the sample decrypts to WeChat’s text message with Content "hello"', () => {
    const xml = sample().decrypt(SAMPLE.encrypt);
    assert.match(xml, /^<xml><ToUserName><!\[CDATA\[wx5823bf96d3bd56c7\]\]><\/ToUserName>/);
    const message = parsePushXml(xml);
    assert.equal(message.Content, 'hello');
    assert.equal(message.MsgType, 'text');
    assert.equal(message.FromUserName, 'mycreate');
    assert.equal(message.CreateTime, '1409659813');
    assert.equal(message.MsgId, '4561255354251345929');
  });

  test('URL-check signature of WeChat’s documented example (Token AAAAA)', () => {
    const crypto = new WechatPushCrypto('AAAAA', undefined, 'wx-any');
    assert.equal(crypto.sign('1714036504', '1514711492'), 'f464b24fc39322e44b38aa78f5edd27bd1441696');
    assert.equal(crypto.sign('1714037059', '486452656'), '899cf89e464efb63f54ddac96b0a0a235f53aa78');
  });

  test('a changed bit anywhere fails the signature', () => {
    const c = sample();
    const flipped = SAMPLE.encrypt.replace('RypE', 'RypF');
    assert.equal(c.verify(SAMPLE.msgSignature, SAMPLE.timestamp, SAMPLE.nonce, flipped), false);
    assert.equal(c.verify(SAMPLE.msgSignature, '1409659814', SAMPLE.nonce, SAMPLE.encrypt), false);
    assert.equal(c.verify(SAMPLE.msgSignature.slice(0, -1) + '0', SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt), false);
    assert.equal(c.verify('', SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt), false);
    assert.equal(c.verify(SAMPLE.msgSignature + '00', SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt), false);
  });

  test('another appid refuses the sample (the appid at the end of the plaintext is checked)', () => {
    const other = new WechatPushCrypto(SAMPLE.token, SAMPLE.encodingAesKey, 'wx0000000000000000');
    assert.throws(
      () => other.decrypt(SAMPLE.encrypt),
      (err) => err instanceof PushDecryptFailedError && /appid/.test(err.message),
    );
  });

  test('another key refuses the sample, and garbage is refused without a crash', () => {
    const wrong = new WechatPushCrypto(SAMPLE.token, 'A'.repeat(43), SAMPLE.appId);
    assert.throws(() => wrong.decrypt(SAMPLE.encrypt), PushDecryptFailedError);
    for (const bad of ['', 'not base64!', 'AAAA', Buffer.alloc(17).toString('base64')]) {
      assert.throws(() => sample().decrypt(bad), PushDecryptFailedError, JSON.stringify(bad));
    }
  });
});

describe('WechatPushCrypto encryption (what the sandbox sends)', () => {
  test('matches WeChat’s layout: 16 random bytes, big-endian length, message, appid, 32-byte PKCS#7', () => {
    const c = sample();
    const random = Buffer.from('0123456789abcdef');
    const encrypted = c.encrypt('<xml><Content><![CDATA[hi]]></Content></xml>', random);
    const raw = Buffer.from(encrypted, 'base64');
    assert.equal(raw.length % 32, 0, 'padded to 32-byte blocks');
    assert.equal(c.decrypt(encrypted), '<xml><Content><![CDATA[hi]]></Content></xml>');
    // Same input, same random: same output (deterministic apart from the random prefix).
    assert.equal(c.encrypt('<xml><Content><![CDATA[hi]]></Content></xml>', random), encrypted);
  });

  test('a message of exactly a block multiple gets a whole block of padding (32 × 0x20)', () => {
    const c = sample();
    // 16 + 4 + n + 18 (appid) = 64 → n = 26
    const encrypted = c.encrypt('x'.repeat(26));
    assert.equal(Buffer.from(encrypted, 'base64').length, 96);
    assert.equal(c.decrypt(encrypted), 'x'.repeat(26));
  });

  test('UTF-8 messages round-trip; the length counts bytes', () => {
    const c = sample();
    assert.equal(c.decrypt(c.encrypt('{"Content":"你好，世界"}')), '{"Content":"你好，世界"}');
  });

  test('an EncodingAESKey that is not 43 base64 characters is refused', () => {
    assert.throws(() => new WechatPushCrypto('t', 'short', 'wx'));
    assert.throws(() => new WechatPushCrypto('t', 'A'.repeat(44), 'wx'));
  });
});
