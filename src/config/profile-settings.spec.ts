import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { integerSetting } from './integer-setting';
import { dataKeyId, loadProfileSettings, parseDataKey } from './profile-settings';

const KEY_BYTES = randomBytes(32);
const KEY = KEY_BYTES.toString('base64');
const dev = { production: false, port: 3000, dataDir: '/nonexistent' };
const prod = { ...dev, production: true };

function load(env: Record<string, string>, app = dev) {
  const problems: string[] = [];
  const settings = loadProfileSettings(env, app, integerSetting(env, problems), problems);
  return { ...settings, problems };
}

describe('profile settings', () => {
  test('development defaults: 2 MiB avatars, PUBLIC_BASE_URL on localhost:PORT, a generated key', () => {
    const s = load({});
    assert.deepEqual(s.problems, []);
    assert.equal(s.avatars.maxBytes, 2097152);
    assert.equal(s.avatars.publicBaseUrl, 'http://localhost:3000');
    assert.equal(s.dataProtection.generated, true);
    assert.equal(s.dataProtection.current.key.length, 32);
  });

  test('a configured key: parsed from base64 (or base64url), its id a fingerprint, not the key', () => {
    const s = load({ DATA_ENCRYPTION_KEY: KEY, DATA_ENCRYPTION_PREVIOUS_KEYS: Buffer.alloc(32, 3).toString('base64url') });
    assert.deepEqual(s.problems, []);
    assert.equal(s.dataProtection.generated, false);
    assert.deepEqual(s.dataProtection.current.key, KEY_BYTES);
    assert.equal(s.dataProtection.current.id, dataKeyId(KEY_BYTES));
    assert.notEqual(s.dataProtection.current.id, s.dataProtection.previous[0].id);
    assert.ok(!KEY.includes(s.dataProtection.current.id));
  });

  test('bad values are named', () => {
    const s = load({ DATA_ENCRYPTION_KEY: 'short', AVATAR_MAX_BYTES: '-1', PUBLIC_BASE_URL: 'ftp://x', DATA_ENCRYPTION_PREVIOUS_KEYS: 'nope' });
    assert.equal(s.problems.length, 4, s.problems.join('\n'));
    for (const name of ['DATA_ENCRYPTION_KEY', 'AVATAR_MAX_BYTES', 'PUBLIC_BASE_URL', 'DATA_ENCRYPTION_PREVIOUS_KEYS'])
      assert.ok(
        s.problems.some((p) => p.includes(name)),
        name,
      );
    assert.equal(parseDataKey(Buffer.alloc(31).toString('base64')), undefined);
  });

  test('AVATAR_MAX_BYTES is plain decimal digits, as every number', () => {
    for (const bad of ['0x10', '1e3', ' 100 ', '-0', '1.5', '20971521']) assert.equal(load({ AVATAR_MAX_BYTES: bad }).problems.length, 1, bad);
    assert.equal(load({ AVATAR_MAX_BYTES: '1000' }).avatars.maxBytes, 1000);
  });

  test('production: a DATA_ENCRYPTION_KEY of few different bytes (all zeros, say) is refused as a placeholder', () => {
    for (const fill of [0, 7]) assert.match(load({ DATA_ENCRYPTION_KEY: Buffer.alloc(32, fill).toString('base64'), AVATAR_MAX_BYTES: '0' }, prod).problems.join(), /DATA_ENCRYPTION_KEY is too weak/);
    assert.deepEqual(load({ DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), AVATAR_MAX_BYTES: '0' }, dev).problems, [], 'development and test keys are not judged');
  });

  test('production: PUBLIC_BASE_URL required (https) while avatars are on; AVATAR_MAX_BYTES=0 turns them off', () => {
    assert.match(load({ DATA_ENCRYPTION_KEY: KEY }, prod).problems.join(), /PUBLIC_BASE_URL/);
    assert.match(load({ DATA_ENCRYPTION_KEY: KEY, PUBLIC_BASE_URL: 'http://api.example.com' }, prod).problems.join(), /https/);
    assert.deepEqual(load({ DATA_ENCRYPTION_KEY: KEY, PUBLIC_BASE_URL: 'https://api.example.com/' }, prod).problems, []);
    assert.equal(load({ DATA_ENCRYPTION_KEY: KEY, PUBLIC_BASE_URL: 'https://api.example.com/' }, prod).avatars.publicBaseUrl, 'https://api.example.com');
    assert.deepEqual(load({ DATA_ENCRYPTION_KEY: KEY, AVATAR_MAX_BYTES: '0' }, prod).problems, []);
  });
});
