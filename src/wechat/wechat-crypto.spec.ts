import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AppError, ErrorCode } from '../common/errors/app-error';
import { WechatCrypto } from './wechat-crypto';
import { DecryptFailedError, SignatureMismatchError, WatermarkMismatchError } from './wechat.errors';

const APPID = 'wxTEST';
const crypto = new WechatCrypto();
/** decode, then decrypt: as the login and the phone route use them. */
const decrypt = (encryptedData: string, iv: string, sessionKey: string, appId: string) => crypto.decrypt(crypto.decode(encryptedData, iv), sessionKey, appId);

const sha1hex = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex');

/** AES-128-CBC with PKCS#7 padding (node's default), as WeChat encrypts user data. */
function encrypt(plaintext: string | Buffer, key: Buffer, iv: Buffer): string {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}
/** No padding added: the caller provides whole blocks (used to forge a bad last block). */
function encryptRaw(plaintext: Buffer, key: Buffer, iv: Buffer): string {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}

function fixture(payload: unknown = { openId: 'oABC', unionId: 'uXYZ', nickName: '小程序用户', watermark: { appid: APPID, timestamp: 1700000000 } }) {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return { key, iv, sessionKey: key.toString('base64'), ivB64: iv.toString('base64'), encryptedData: encrypt(text, key, iv) };
}

/** `fn` throws an `expected`, which answers `code` with HTTP `status` (and a message matching `message`). */
function assertFails(fn: () => unknown, expected: new (...args: never[]) => AppError, code: ErrorCode, status: number, message?: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof expected, `expected ${expected.name}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    if (message) assert.match(err.message, message);
    return true;
  });
}
const assertDecryptFailed = (fn: () => unknown, message?: RegExp) => assertFails(fn, DecryptFailedError, 'DECRYPT_FAILED', 400, message);
const assertWatermark = (fn: () => unknown) => assertFails(fn, WatermarkMismatchError, 'WATERMARK_MISMATCH', 400);
const assertSignature = (fn: () => unknown) => assertFails(fn, SignatureMismatchError, 'SIGNATURE_MISMATCH', 401);

describe('WechatCrypto.verifySignature', () => {
  const sessionKey = randomBytes(16).toString('base64');
  const rawData = JSON.stringify({ nickName: 'Band', gender: 1, city: 'Guangzhou', avatarUrl: 'https://thirdwx.qlogo.cn/x/132' });
  const signature = sha1hex(rawData + sessionKey);

  test('accepts sha1(rawData + session_key) in lowercase hex', () => {
    assert.match(signature, /^[0-9a-f]{40}$/);
    assert.doesNotThrow(() => crypto.verifySignature(rawData, signature, sessionKey));
  });

  test('accepts the same signature in uppercase hex', () => {
    assert.doesNotThrow(() => crypto.verifySignature(rawData, signature.toUpperCase(), sessionKey));
  });

  test('rejects a signature with any one character changed', () => {
    for (const i of [0, 17, 39]) {
      const c = signature[i];
      const flipped = signature.slice(0, i) + (c === '0' ? '1' : '0') + signature.slice(i + 1);
      assert.notEqual(flipped, signature);
      assertSignature(() => crypto.verifySignature(rawData, flipped, sessionKey));
    }
  });

  test('rejects a signature of the wrong length (prefix, extension, empty, non-hex)', () => {
    assertSignature(() => crypto.verifySignature(rawData, signature.slice(0, 38), sessionKey));
    assertSignature(() => crypto.verifySignature(rawData, signature + '00', sessionKey));
    assertSignature(() => crypto.verifySignature(rawData, '', sessionKey));
    // Buffer.from(hex) stops at the first non-hex pair, so this must not pass as a shorter match.
    assertSignature(() => crypto.verifySignature(rawData, signature.slice(0, 38) + 'zz', sessionKey));
  });

  test('rejects a signature made with another session_key', () => {
    const other = randomBytes(16).toString('base64');
    assertSignature(() => crypto.verifySignature(rawData, sha1hex(rawData + other), sessionKey));
  });

  test('rejects the signature of different rawData', () => {
    assertSignature(() => crypto.verifySignature(rawData.replace('Band', 'Bend'), signature, sessionKey));
  });

  test('hashes Chinese characters in rawData as UTF-8', () => {
    const zh = JSON.stringify({ nickName: '微信用户', city: '深圳', province: '广东', country: '中国' });
    const sig = sha1hex(zh + sessionKey);
    assert.doesNotThrow(() => crypto.verifySignature(zh, sig, sessionKey));
    // A latin1 hash of the same text differs, and must not pass.
    const latin1 = createHash('sha1')
      .update(zh + sessionKey, 'latin1')
      .digest('hex');
    assert.notEqual(latin1, sig);
    assertSignature(() => crypto.verifySignature(zh, latin1, sessionKey));
  });
});

describe('WechatCrypto.decrypt', () => {
  test('round trip: returns the decrypted JSON object', () => {
    const payload = { openId: 'oABC', unionId: 'uXYZ', nickName: '小程序用户', gender: 2, watermark: { appid: APPID, timestamp: 1700000000 } };
    const f = fixture(payload);
    assert.deepEqual(decrypt(f.encryptedData, f.ivB64, f.sessionKey, APPID), payload);
  });

  test('round trip of a plaintext that is exactly a whole number of blocks (a full padding block follows)', () => {
    let payload: Record<string, unknown> = { watermark: { appid: APPID }, p: '' };
    for (let n = 0; Buffer.byteLength(JSON.stringify(payload)) % 16 !== 0; n++) payload = { watermark: { appid: APPID }, p: 'x'.repeat(n) };
    const f = fixture(payload);
    assert.equal(Buffer.from(f.encryptedData, 'base64').length, Buffer.byteLength(JSON.stringify(payload)) + 16);
    assert.deepEqual(decrypt(f.encryptedData, f.ivB64, f.sessionKey, APPID), payload);
  });

  test('a wrong session_key fails with DecryptFailedError (bad padding or not JSON), never anything else', () => {
    const f = fixture();
    for (let i = 0; i < 50; i++) {
      const wrong = randomBytes(16);
      if (wrong.equals(f.key)) continue;
      assertDecryptFailed(() => decrypt(f.encryptedData, f.ivB64, wrong.toString('base64'), APPID));
    }
  });

  test('a wrong iv fails (the first block decrypts to garbage)', () => {
    const f = fixture();
    for (let i = 0; i < 20; i++) {
      const wrongIv = randomBytes(16).toString('base64');
      // With a one-block ciphertext a wrong iv only changes the padding; with more it garbles the JSON start.
      assertDecryptFailed(() => decrypt(f.encryptedData, wrongIv, f.sessionKey, APPID));
    }
  });

  test('bad PKCS#7 padding in the last block', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const json = Buffer.from(JSON.stringify({ watermark: { appid: APPID }, a: 1 }));
    for (const badTail of [
      Buffer.alloc(4, 0), // padding byte 0 is never valid
      Buffer.from([3, 3, 3, 2]), // inconsistent padding bytes
      Buffer.from([1, 1, 1, 17]), // padding length over one block
    ]) {
      const total = Math.ceil((json.length + badTail.length) / 16) * 16;
      const plain = Buffer.concat([json, Buffer.alloc(total - json.length - badTail.length, 0x20), badTail]);
      assert.equal(plain.length % 16, 0);
      assertDecryptFailed(() => decrypt(encryptRaw(plain, key, iv), iv.toString('base64'), key.toString('base64'), APPID));
    }
  });

  test('truncated ciphertext: one byte short is not whole blocks', () => {
    const f = fixture();
    const bytes = Buffer.from(f.encryptedData, 'base64');
    assertDecryptFailed(() => decrypt(bytes.subarray(0, bytes.length - 1).toString('base64'), f.ivB64, f.sessionKey, APPID), /block/i);
  });

  test('truncated ciphertext: one whole block short fails as bad padding or non-JSON', () => {
    const f = fixture({ watermark: { appid: APPID }, nickName: 'a long enough nickname to need several blocks' });
    const bytes = Buffer.from(f.encryptedData, 'base64');
    assert.ok(bytes.length >= 48);
    assertDecryptFailed(() => decrypt(bytes.subarray(0, bytes.length - 16).toString('base64'), f.ivB64, f.sessionKey, APPID));
  });

  test('an iv of 8 or 32 bytes is refused', () => {
    const f = fixture();
    assertDecryptFailed(() => decrypt(f.encryptedData, randomBytes(8).toString('base64'), f.sessionKey, APPID), /iv/);
    assertDecryptFailed(() => decrypt(f.encryptedData, randomBytes(32).toString('base64'), f.sessionKey, APPID), /iv/);
    assertDecryptFailed(() => decrypt(f.encryptedData, '', f.sessionKey, APPID), /iv/);
  });

  test('non-base64 characters in encryptedData, iv or session_key are refused (not silently skipped)', () => {
    const f = fixture();
    // Buffer.from would ignore '!' and '*' and decode the rest: a strict decoder must refuse them.
    const withJunk = (b64: string) => b64.slice(0, 4) + '!*!*' + b64.slice(4);
    assertDecryptFailed(() => decrypt(withJunk(f.encryptedData), f.ivB64, f.sessionKey, APPID), /encryptedData/);
    assertDecryptFailed(() => decrypt(f.encryptedData, withJunk(f.ivB64), f.sessionKey, APPID), /iv/);
    assertDecryptFailed(() => decrypt(f.encryptedData, f.ivB64, withJunk(f.sessionKey), APPID), /session_key/);
    // Whitespace and base64url alphabet are not what WeChat sends either.
    assertDecryptFailed(() => decrypt(f.encryptedData, f.ivB64, ` ${f.sessionKey}`, APPID), /session_key/);
    const url = f.encryptedData.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== f.encryptedData) assertDecryptFailed(() => decrypt(url, f.ivB64, f.sessionKey, APPID), /encryptedData/);
    assertDecryptFailed(() => decrypt('中文', f.ivB64, f.sessionKey, APPID), /encryptedData/);
  });

  test('decode alone, without any key, refuses what no key could open', () => {
    const f = fixture();
    assertDecryptFailed(() => crypto.decode(f.encryptedData, randomBytes(15).toString('base64')), /iv/);
    assertDecryptFailed(() => crypto.decode(f.encryptedData, f.ivB64.slice(0, -2)), /iv/);
    assertDecryptFailed(() => crypto.decode(f.encryptedData.slice(1), f.ivB64), /encryptedData/);
    assertDecryptFailed(() => crypto.decode(randomBytes(20).toString('base64'), f.ivB64), /encryptedData/);
    const sealed = crypto.decode(f.encryptedData, f.ivB64);
    assert.ok(sealed.iv.equals(f.iv));
    assert.ok(sealed.data.equals(Buffer.from(f.encryptedData, 'base64')));
  });

  test('empty encryptedData is refused', () => {
    const f = fixture();
    assertDecryptFailed(() => decrypt('', f.ivB64, f.sessionKey, APPID));
  });

  test('a session_key that is not 16 bytes is refused', () => {
    const f = fixture();
    for (const n of [0, 8, 15, 17, 24, 32]) {
      assertDecryptFailed(() => decrypt(f.encryptedData, f.ivB64, randomBytes(n).toString('base64'), APPID), /session_key/);
    }
  });

  test('a plaintext that is not JSON is refused', () => {
    for (const text of ['not json at all', '{"watermark":{"appid":"wxTEST"}', '', '\u0000\u0001']) {
      const f = fixture(text);
      assertDecryptFailed(() => decrypt(f.encryptedData, f.ivB64, f.sessionKey, APPID), /JSON/);
    }
  });

  test('plaintext JSON that is not an object (array, number, string, null) is refused', () => {
    for (const value of [[{ watermark: { appid: APPID } }], 42, 'text', null, true]) {
      const f = fixture(JSON.stringify(value));
      assertDecryptFailed(() => decrypt(f.encryptedData, f.ivB64, f.sessionKey, APPID), /JSON/);
    }
  });

  test('a watermark of another mini program is refused', () => {
    const f = fixture({ openId: 'o1', watermark: { appid: 'wxOTHER', timestamp: 1 } });
    assertWatermark(() => decrypt(f.encryptedData, f.ivB64, f.sessionKey, APPID));
    // Case matters: appids are compared exactly.
    const g = fixture({ openId: 'o1', watermark: { appid: APPID.toLowerCase() } });
    assertWatermark(() => decrypt(g.encryptedData, g.ivB64, g.sessionKey, APPID));
  });

  test('a missing or malformed watermark is refused', () => {
    for (const payload of [{ openId: 'o1' }, { openId: 'o1', watermark: null }, { openId: 'o1', watermark: {} }, { openId: 'o1', watermark: APPID }, { openId: 'o1', appid: APPID }]) {
      const f = fixture(payload);
      assertWatermark(() => decrypt(f.encryptedData, f.ivB64, f.sessionKey, APPID));
    }
  });

  test('the appid checked is the one given (the mini program of the session)', () => {
    assert.throws(() => decrypt(fixture({ openId: 'o1', watermark: { appid: 'wxOTHER' } }).encryptedData, fixture().ivB64, fixture().sessionKey, APPID));
    const f = fixture({ openId: 'o1', watermark: { appid: 'wxOTHER' } });
    assert.deepEqual(decrypt(f.encryptedData, f.ivB64, f.sessionKey, 'wxOTHER'), { openId: 'o1', watermark: { appid: 'wxOTHER' } });
  });
});

/**
 * WeChat's own samples from the documentation of 开放数据校验与解密 (open data signature check and
 * decryption) and its downloadable demo code: inputs and outputs we did not produce ourselves.
 */
describe("WechatCrypto against WeChat's published samples", () => {
  test('the rawData signature sample: sha1(rawData + session_key)', () => {
    const rawData =
      '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}';
    const sessionKey = 'HyVFkGl5F5OQWJZZaNzBBg==';
    assert.doesNotThrow(() => new WechatCrypto().verifySignature(rawData, '75e81ceda165f4ffa64f4068af58c64b8f54b88c', sessionKey));
    assertSignature(() => new WechatCrypto().verifySignature(rawData, '75e81ceda165f4ffa64f4068af58c64b8f54b88d', sessionKey));
  });

  test('the encryptedData sample of appid wx4f4bc4dec97d474b decrypts to the documented user', () => {
    const sessionKey = 'tiihtNczf5v6AKRyjwEUhQ==';
    const iv = 'r7BXXKkLb8qrSNn05n0qiA==';
    const encryptedData =
      'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==';
    assert.deepEqual(decrypt(encryptedData, iv, sessionKey, 'wx4f4bc4dec97d474b'), {
      openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
      nickName: 'Band',
      gender: 1,
      language: 'zh_CN',
      city: 'Guangzhou',
      province: 'Guangdong',
      country: 'CN',
      avatarUrl: 'http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0',
      unionId: 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA',
      watermark: { timestamp: 1477314187, appid: 'wx4f4bc4dec97d474b' },
    });
    // The same sample for another mini program: its watermark names wx4f4bc4dec97d474b, not us.
    assertWatermark(() => decrypt(encryptedData, iv, sessionKey, 'wxOTHER'));
  });
});
