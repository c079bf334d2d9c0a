import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskMobile } from './mobile-number';

/** n digits, no two neighbours alike, so any run of shown digits is told apart from the number. */
const digitsOf = (n: number) => '613728495061372849'.slice(0, n);

describe('maskMobile', () => {
  test('the documented shapes', () => {
    const cases: [string, string][] = [
      ['13800138000', '138****8000'],
      ['138-0013-8000', '138****8000'],
      ['8613800138000', '861****8000'],
      ['+8613800138000', '+86****8000'],
      ['+86 13800138000', '+86 138****8000'],
      ['+1 5551234567', '+1 55****67'],
      ['+1-555-123-4567', '+1 55****67'],
      ['+852 61234567', '+852 61****67'],
      ['5551234567', '55****67'],
      ['28123456', '28****56'],
      ['6123456', '6****6'],
      ['1234', '1****4'],
      ['123', '****'],
      ['1', '****'],
      ['', '****'],
      ['+', '+****'],
    ];
    for (const [number, masked] of cases) assert.equal(maskMobile(number), masked, number);
  });

  for (let n = 1; n <= 15; n++) {
    test(`${n} digits, with and without a + or a country code: never the number, at least half hidden below 11`, () => {
      const digits = digitsOf(n);
      for (const [prefix, kept] of [
        ['', ''],
        ['+', '+'],
        ['+1 ', '+1 '],
        ['+86-', '+86 '],
        ['+852 ', '+852 '],
      ]) {
        const number = prefix + digits;
        const masked = maskMobile(number);
        assert.ok(masked.startsWith(`${kept}`), `${number} → ${masked}: the prefix`);
        const [head, tail] = masked.slice(kept.length).split('****');
        assert.equal(tail === undefined ? undefined : `${head}****${tail}`, masked.slice(kept.length), `${number} → ${masked}: digits, ****, digits`);
        assert.ok(digits.startsWith(head) && digits.endsWith(tail), `${number} → ${masked}: shows only its first and last digits`);
        const shown = head.length + tail.length;
        // Below 11 digits at least half is hidden; from 11 on, 138****8000 (at most 7 shown).
        assert.ok(n < 11 ? shown <= n / 2 : shown <= 7 && n - shown >= 4, `${number} → ${masked}: ${shown} of ${n} digits shown`);
        assert.ok(!masked.slice(kept.length).includes(digits), `${number} → ${masked}: the whole number`);
        assert.equal(maskMobile(masked), masked, `${number} → ${masked}: masking again keeps it`);
      }
    });
  }
});
