import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStandardBase64 } from './base64';

const TEXTBOOK = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

test('standard padded base64 passes; other alphabets, bad padding and stray characters do not', () => {
  for (const value of ['', 'QQ==', 'QUI=', 'QUJD', 'r7BXXKkLb8qrSNn05n0qiA==', 'ab+/Zz09']) assert.equal(isStandardBase64(value), true, value);
  for (const value of ['Q', 'QQ=', 'Q===', '====', 'QQ==QQ==', 'QU=I', 'ab-_', 'QUJD\n', ' QUJD', 'QUJD=', 'QQ%3D%3D']) assert.equal(isStandardBase64(value), false, value);
});

test('the same verdict as the textbook pattern on every string of up to 6 characters from a telling alphabet', () => {
  const alphabet = ['A', 'z', '0', '+', '/', '=', '-', ' '];
  let checked = 0;
  const walk = (prefix: string) => {
    assert.equal(isStandardBase64(prefix), TEXTBOOK.test(prefix), JSON.stringify(prefix));
    checked++;
    if (prefix.length < 6) for (const c of alphabet) walk(prefix + c);
  };
  walk('');
  assert.equal(checked, (8 ** 7 - 1) / 7);
});
