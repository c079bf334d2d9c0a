import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VerifiedTokenCache } from './verified-token.cache';

test('remembers the claims of a verified token until it expires', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const cache = new VerifiedTokenCache();
  cache.set('a.b.c', { sub: '1', ver: 0, exp: 1_000_000 / 1000 + 60 });
  assert.deepEqual(cache.get('a.b.c'), { sub: '1', ver: 0, exp: 1060 });
  assert.equal(cache.get('a.b.x'), undefined, 'only the identical token matches');
  t.mock.timers.tick(60_000);
  assert.equal(cache.get('a.b.c'), undefined, 'gone at its exp');
});

test('stays bounded: the oldest entries make room', () => {
  const cache = new VerifiedTokenCache();
  for (let i = 0; i <= 10_000; i++) cache.set(`t${i}`, { sub: String(i), ver: 0, exp: Date.now() / 1000 + 3600 });
  assert.equal(cache.get('t0'), undefined);
  assert.equal(cache.get('t10000')?.sub, '10000');
});
