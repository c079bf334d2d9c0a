/**
 * The checksession signature (`GET /wechat/session`): lowercase hex HMAC-SHA256 keyed by
 * the session_key TEXT exactly as WeChat sent it, not its base64-decoded bytes.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkSessionSignature } from './session-check.service';

/** WeChat's documented example (open-ability/signature, "checkSessionKey"). */
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
    const byText = createHmac('sha256', DOC_KEY).update('').digest('hex');
    const byDecodedBytes = createHmac('sha256', Buffer.from(DOC_KEY, 'base64')).update('').digest('hex');
    assert.notEqual(byText, byDecodedBytes, 'test setup: the two keyings must differ');
    assert.equal(checkSessionSignature(DOC_KEY), byText);
    assert.equal(checkSessionSignature(DOC_KEY, ''), byText);
    assert.notEqual(checkSessionSignature(DOC_KEY), byDecodedBytes);
  });

  test('depends on the key', () => {
    assert.notEqual(checkSessionSignature(DOC_KEY), checkSessionSignature('AAAAAAAAAAAAAAAAAAAAAA=='));
  });
});
