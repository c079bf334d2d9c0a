import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codePointLength, textProblem, truncateCodePoints } from './text';

test('lengths count code points, as PostgreSQL varchar does', () => {
  assert.equal(codePointLength('❤️'), 2, 'heart + variation selector');
  assert.equal(codePointLength('😀😀'), 2);
  assert.equal('😀😀'.length, 4);
  assert.equal(codePointLength('微信用户'), 4);
});

test('cutting never splits a character', () => {
  const name = '😀'.repeat(70);
  const cut = truncateCodePoints(name, 64);
  assert.equal(codePointLength(cut), 64);
  assert.ok(cut.isWellFormed());
  assert.equal(truncateCodePoints('ab😀', 3), 'ab😀');
  assert.equal(truncateCodePoints('ab😀c', 3), 'ab😀');
  assert.equal(truncateCodePoints('short', 64), 'short');
});

test('a character of several code points is kept whole or dropped whole, never left half', () => {
  const family = '👨\u200d👩\u200d👧'; // 5 code points, one character
  assert.equal(truncateCodePoints('a'.repeat(62) + family, 64), 'a'.repeat(62), 'no dangling ZWJ');
  assert.equal(truncateCodePoints('a'.repeat(59) + family + 'b', 64), 'a'.repeat(59) + family);
  assert.equal(truncateCodePoints('a'.repeat(63) + '🇨🇳', 64), 'a'.repeat(63), 'half a flag is another flag');
  assert.equal(truncateCodePoints('Zoe\u0301'.repeat(2), 4), 'Zoe\u0301');
  assert.equal(truncateCodePoints('Zoe\u0301x', 3), 'Zo');
  // One character longer than the limit: cut by code point rather than dropped to nothing.
  assert.equal(codePointLength(truncateCodePoints('e' + '\u0301'.repeat(80), 64)), 64);
});

test('what the database would reject is named', () => {
  assert.match(textProblem('a\u0000b', 64)!, /NUL/);
  assert.match(textProblem('a\ud800b', 64)!, /lone surrogate/);
  assert.match(textProblem('a\u0007b', 64)!, /control/);
  assert.match(textProblem('❤️'.repeat(33), 64)!, /at most 64/);
  assert.equal(textProblem('❤️'.repeat(32), 64), undefined);
  assert.equal(textProblem('Zoë 😀', 64), undefined);
});
