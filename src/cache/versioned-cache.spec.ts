import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryVersionedCache, RedisVersionedCache, type VersionedCache } from './versioned-cache';

const redisUrl = process.env.REDIS_URL;

function behaves(name: string, make: () => VersionedCache, options: { skip?: string } = {}) {
  describe(name, { skip: options.skip }, () => {
    test('a value is replaced only by a newer revision', async () => {
      const cache = make();
      const key = `t:${process.pid}:${Math.random()}`;
      try {
        assert.equal(await cache.get(key), undefined);
        await cache.put(key, 5, { v: 'five' }, 60_000);
        await cache.put(key, 3, { v: 'three, read before the write of five' }, 60_000);
        assert.deepEqual(await cache.get(key), { revision: 5, value: { v: 'five' } });
        await cache.put(key, 5, { v: 'five again' }, 60_000);
        assert.deepEqual((await cache.get(key))?.value, { v: 'five' }, 'the same revision keeps the held value');
        await cache.put(key, 6, { v: 'six' }, 60_000);
        assert.deepEqual(await cache.get(key), { revision: 6, value: { v: 'six' } });
      } finally {
        await cache.close();
      }
    });
  });
}

behaves('MemoryVersionedCache', () => new MemoryVersionedCache(1 << 20));
behaves('RedisVersionedCache', () => new RedisVersionedCache(redisUrl!, `wxlogin-test:${process.pid}:`), { skip: redisUrl ? undefined : 'REDIS_URL is not set' });

test('the memory cache stays within its byte budget whatever the number of keys', async () => {
  const cache = new MemoryVersionedCache(256 * 1024);
  for (let i = 0; i < 20_000; i++) await cache.put(`u:${i}`, 1, { id: i, nickname: 'someone with a name' }, 60_000);
  assert.equal(await cache.get('u:0'), undefined, 'the oldest entries made room');
  assert.ok(await cache.get('u:19999'));
  let held = 0;
  for (let i = 0; i < 20_000; i++) if (await cache.get(`u:${i}`)) held++;
  assert.ok(held > 100 && held < 2000, `held ${held} entries in 256 KiB`);
});

test('the memory cache counts an entry by the size of its text, not one slot per key', async () => {
  const cache = new MemoryVersionedCache(256 * 1024);
  const long = 'x'.repeat(10_000);
  for (let i = 0; i < 100; i++) await cache.put(`u:${i}`, 1, { id: i, nickname: long, nested: { city: long } }, 60_000);
  let held = 0;
  for (let i = 0; i < 100; i++) if (await cache.get(`u:${i}`)) held++;
  // Each entry holds 20,000 characters (about 40 KB in the heap): 256 KiB has room for six of them.
  assert.ok(held >= 4 && held <= 7, `held ${held} entries of 40 KB in 256 KiB`);
});
