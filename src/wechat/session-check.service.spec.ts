/**
 * The checksession signature (`GET /wechat/session`): lowercase hex HMAC-SHA256 keyed by
 * the session_key TEXT exactly as WeChat sent it, not its base64-decoded bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSessionSignature } from './session-check.service';

/** WeChat's documented example (用户登录态签名 / user login state signature, used by checkSessionKey). */
const DOC_KEY = 'o0q0otL8aEzpcZL/FT9WsQ==';
const DOC_MESSAGE = '{"foo":"bar"}';
const DOC_SIGNATURE = '654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b';

describe('checkSessionSignature', () => {
  test("matches WeChat's documented vector", () => {
    assert.equal(checkSessionSignature(DOC_KEY, DOC_MESSAGE), DOC_SIGNATURE);
  });

  test('is lowercase hex of 32 bytes', () => {
    assert.match(checkSessionSignature(DOC_KEY), /^[0-9a-f]{64}$/);
  });

  test('signs the empty string by default, keyed by the session_key text', () => {
    // Fixed values computed outside this code (`printf '' | openssl dgst -sha256 -hmac 'o0q0otL8aEzpcZL/FT9WsQ=='`,
    // and with `-mac HMAC -macopt hexkey:` of the base64-decoded key for the wrong keying).
    const keyedByText = '46e043c5525c2d817c44be603d30837a808a1d930d038f6fdc3e62a201fed128';
    const keyedByDecodedBytes = '1eaa0ebfa28615988fb59e6c2d17f75f0f8806b610e8fe78a33da4660208e313';
    assert.equal(checkSessionSignature(DOC_KEY), keyedByText);
    assert.equal(checkSessionSignature(DOC_KEY, ''), keyedByText);
    assert.notEqual(checkSessionSignature(DOC_KEY), keyedByDecodedBytes);
  });

  test('depends on the key', () => {
    assert.notEqual(checkSessionSignature(DOC_KEY), checkSessionSignature('AAAAAAAAAAAAAAAAAAAAAA=='));
  });
});
