import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../config/configuration';

const dev = (env: Record<string, string>) => loadConfig({ WECHAT_APPID: 'wxabc', WECHAT_SECRET: 'sec', ...env }, '/srv/app');

describe('push configuration (WECHAT_PUSH_TOKEN, WECHAT_PUSH_AES_KEY)', () => {
  test('unset by default: the push route is off', () => {
    const c = dev({});
    assert.equal(c.wechat.apps[0].pushToken, undefined);
    assert.equal(c.wechat.apps[0].pushAesKey, undefined);
  });

  test('a Token and a 43-character EncodingAESKey are taken as given', () => {
    const c = dev({ WECHAT_PUSH_TOKEN: 'QDG6eK', WECHAT_PUSH_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C' });
    assert.equal(c.wechat.apps[0].pushToken, 'QDG6eK');
    assert.equal(c.wechat.apps[0].pushAesKey, 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C');
  });

  test('bad values are named', () => {
    for (const [env, name] of [
      [{ WECHAT_PUSH_TOKEN: 'QDG6eK', WECHAT_PUSH_AES_KEY: 'tooshort' }, 'WECHAT_PUSH_AES_KEY'],
      [{ WECHAT_PUSH_TOKEN: 'QDG6eK', WECHAT_PUSH_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C=' }, 'WECHAT_PUSH_AES_KEY'],
      [{ WECHAT_PUSH_TOKEN: 'has space' }, 'WECHAT_PUSH_TOKEN'],
      [{ WECHAT_PUSH_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C' }, 'WECHAT_PUSH_TOKEN'],
    ] as const) {
      assert.throws(
        () => dev(env as Record<string, string>),
        (err) => err instanceof ConfigError && err.message.includes(name),
        JSON.stringify(env),
      );
    }
  });
});
