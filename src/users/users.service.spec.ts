import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryVersionedCache, type Versioned, VersionedCache } from '../cache/versioned-cache';
import type { SessionKeyStore } from '../session-keys/session-key.store';
import type { UserDto } from './dto/user.dto';
import type { Sql } from '../database/sql';
import type { IdentityLinker } from './identity-linker';
import { TokenRevocations } from './token-revocations';
import { DatabaseNotifications } from '../database/database-notifications';
import type { WechatIdentityRepository } from './wechat-identity.repository';
import { UsersService } from './users.service';
import type { UserRecord, WechatUserRepository } from './wechat-user.repository';

const user = (id: number): UserDto => ({
  id,
  openId: `o${id}`,
  unionId: null,
  nickname: null,
  avatarUrl: null,
  gender: null,
  country: null,
  province: null,
  city: null,
  avatarPending: false,
  mobile: null,
  hasMobile: false,
  mobileVerifiedAt: null,
  identities: [{ appId: 'wxA', openId: `o${id}` }],
  createdAt: '',
  updatedAt: '',
});

/** A cache whose writes fail while `down` is true (Redis unreachable right after the database committed). */
class FlakyCache extends VersionedCache {
  down = true;
  readonly inner = new MemoryVersionedCache(1 << 20);
  get<T>(key: string): Promise<Versioned<T> | undefined> {
    return this.inner.get<T>(key);
  }
  put<T>(key: string, revision: number, value: T, ttlMs: number): Promise<void> {
    return this.down ? Promise.reject(new Error('cache down')) : this.inner.put(key, revision, value, ttlMs);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

test('a revocation that reached the database is not reported as failed when the cache write fails, and is not left undone', async (t) => {
  const before: UserRecord = { user: user(7), revision: 1, tokenVersion: 0, deleted: false };
  const after: UserRecord = { user: user(7), revision: 2, tokenVersion: 1, deleted: false };
  const repository = { revokeTokens: async () => after, findById: async () => before } as unknown as WechatUserRepository;
  const cache = new FlakyCache();
  cache.down = false;
  await cache.put('u2:7', before.revision, before, 60_000); // the cache holds version 0
  cache.down = true;
  const revocations = new TokenRevocations(repository, { secret: 'x', expiresInSeconds: 3600, generated: false }, new DatabaseNotifications('postgres://unused'));
  const users = new UsersService(
    repository,
    cache,
    revocations,
    {} as SessionKeyStore,
    {} as IdentityLinker,
    {} as WechatIdentityRepository,
    { transaction: (work: (tx: unknown) => unknown) => work({}) } as unknown as Sql,
  );

  t.mock.timers.enable({ apis: ['setTimeout'] });
  await users.revokeTokens(7); // resolves: the database has the revocation
  const { tokenVersion, deleted, firstAppId } = (await users.tokenState(7))!;
  assert.deepEqual({ tokenVersion, deleted, firstAppId }, { tokenVersion: 1, deleted: false, firstAppId: 'wxA' }, 'refused at once although the cache still says 0');

  cache.down = false;
  t.mock.timers.tick(1000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal((await cache.get<UserRecord>('u2:7'))?.value.tokenVersion, 1, 'the cache write was retried until it landed');
});
