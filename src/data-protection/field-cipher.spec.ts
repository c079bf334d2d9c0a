import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dataKeyId } from '../config/profile-settings';
import { FieldCipher, FieldDecryptError } from './field-cipher';
import { maskMobile, MOBILE_PURPOSE, sealMobile } from './mobile-number';

const key = (fill: number) => ({ id: dataKeyId(Buffer.alloc(32, fill)), key: Buffer.alloc(32, fill) });

describe('FieldCipher', () => {
  const cipher = new FieldCipher({ current: key(1), previous: [] });

  test('an envelope names its key and holds no trace of the plaintext; it opens to the plaintext', () => {
    const sealed = cipher.seal('13800138000', MOBILE_PURPOSE);
    assert.match(sealed, /^v1\.[\w-]{8}\.[\w-]+$/);
    assert.equal(sealed.split('.')[1], key(1).id);
    assert.ok(!sealed.includes('138'));
    assert.notEqual(cipher.seal('13800138000', MOBILE_PURPOSE), sealed, 'a fresh IV each time');
    assert.equal(cipher.open(sealed, MOBILE_PURPOSE), '13800138000');
  });

  test('is AES-256-GCM under the HKDF-derived key: a plain decipher with the documented layout opens it', () => {
    const sealed = cipher.seal('+1 5551234567', MOBILE_PURPOSE);
    const body = Buffer.from(sealed.split('.')[2], 'base64url');
    const k = Buffer.from(hkdfSync('sha256', Buffer.alloc(32, 1), Buffer.alloc(0), 'field-encryption aes-256-gcm', 32));
    const d = createDecipheriv('aes-256-gcm', k, body.subarray(0, 12));
    d.setAAD(Buffer.from(MOBILE_PURPOSE));
    d.setAuthTag(body.subarray(body.length - 16));
    assert.equal(Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]).toString(), '+1 5551234567');
  });

  test('tampering, another purpose, another key, or garbage → FieldDecryptError', () => {
    const sealed = cipher.seal('13800138000', MOBILE_PURPOSE);
    const body = Buffer.from(sealed.split('.')[2], 'base64url');
    body[14] ^= 1;
    const tampered = `v1.${key(1).id}.${body.toString('base64url')}`;
    assert.throws(() => cipher.open(tampered, MOBILE_PURPOSE), FieldDecryptError);
    assert.throws(() => cipher.open(sealed, 'wechat_user.nickname'), FieldDecryptError);
    assert.throws(() => new FieldCipher({ current: key(2), previous: [] }).open(sealed, MOBILE_PURPOSE), /unknown key id/);
    for (const junk of ['13800138000', 'v1..', 'v1.x.y.z', 'v2.a.b']) assert.throws(() => cipher.open(junk, MOBILE_PURPOSE), FieldDecryptError);
  });

  test('rotation: the new key encrypts, the previous still opens and its lookup hash still matches', () => {
    const old = cipher.seal('13800138000', MOBILE_PURPOSE);
    const oldHash = cipher.lookupHash('13800138000', MOBILE_PURPOSE);
    const rotated = new FieldCipher({ current: key(2), previous: [key(1)] });
    assert.equal(rotated.open(old, MOBILE_PURPOSE), '13800138000');
    assert.equal(rotated.seal('1', MOBILE_PURPOSE).split('.')[1], key(2).id);
    assert.ok(rotated.lookupHashes('13800138000', MOBILE_PURPOSE).includes(oldHash));
    assert.notEqual(rotated.lookupHash('13800138000', MOBILE_PURPOSE), oldHash);
  });

  test('sealMobile: lookup hash of the digits, so formatting does not matter; maskMobile', () => {
    assert.equal(sealMobile(cipher, '+86 138-0013-8000').lookupHash, sealMobile(cipher, '8613800138000').lookupHash);
    assert.match(sealMobile(cipher, '13800138000').lookupHash, /^[0-9a-f]{64}$/);
    assert.equal(maskMobile('13800138000'), '138****8000');
    assert.equal(maskMobile('+1 5551234567'), '+1 55****67');
    assert.ok(!maskMobile('12345').includes('234'));
  });
});
