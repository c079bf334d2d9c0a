import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, type Env, loadConfig, SANDBOX_APPID } from './configuration';

const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const load = (env: Env) => loadConfig(env, '/srv/app');
const apps = (value: unknown) => ({ WECHAT_APPS: typeof value === 'string' ? value : JSON.stringify(value) });

function problems(env: Env): string {
  try {
    load(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('WECHAT_APPS', () => {
  test('several apps, each with its own credentials and push settings, in the order given', () => {
    const c = load(
      apps([
        { appId: 'wxA000', secret: 'sa', pushToken: 'tokA', pushAesKey: AES_KEY },
        { appId: 'wxB000', secret: 'sb' },
      ]),
    );
    assert.equal(c.wechat.sandbox, false);
    assert.deepEqual(c.wechat.apps, [
      { appId: 'wxA000', secret: 'sa', pushToken: 'tokA', pushAesKey: AES_KEY },
      { appId: 'wxB000', secret: 'sb' },
    ]);
  });

  test('production accepts WECHAT_APPS instead of WECHAT_APPID/WECHAT_SECRET', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: 'k7Qx9-Vb2mZp4Lr8Ty6Wn3Hs5Jd1Fc0G',
      DATABASE_URL: 'postgres://u:p@db/app',
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      AVATAR_MAX_BYTES: '0',
    };
    const c = load({ ...production, ...apps([{ appId: 'wxA000', secret: 'sa' }]) });
    assert.deepEqual(
      c.wechat.apps.map((a) => a.appId),
      ['wxA000'],
    );
    assert.match(problems(production), /WECHAT_APPID, WECHAT_SECRET.*or WECHAT_APPS/);
  });

  test('refused together with the one-app variables', () => {
    for (const extra of [{ WECHAT_APPID: 'wxA000' }, { WECHAT_SECRET: 's' }, { WECHAT_APPID: 'wxA000', WECHAT_SECRET: 's' }, { WECHAT_PUSH_TOKEN: 'tok' }]) {
      assert.match(problems({ ...apps([{ appId: 'wxA000', secret: 'sa' }]), ...extra }), /WECHAT_APPS is refused together with WECHAT_APPID/, JSON.stringify(extra));
    }
  });

  test('every problem is named by its place, and no secret is echoed', () => {
    const message = problems(
      apps([
        { appId: 'wxA000', secret: 'topsecret-1' },
        { appId: 'wxA000', secret: 'topsecret-2' },
        { appId: 'wx:bad', secret: 'topsecret-3' },
        { appId: 'wxC000' },
        { appId: 'wxD000', secret: 'topsecret-4', pushToken: 'has space', pushAesKey: 'short' },
        { appid: 'wxE000', secret: 'topsecret-5' },
        'not an object',
      ]),
    );
    for (const expected of [
      /WECHAT_APPS\[1\]\.appId wxA000 is listed twice/,
      /WECHAT_APPS\[2\]\.appId must be/,
      /WECHAT_APPS\[3\]\.secret is required/,
      /WECHAT_APPS\[4\]\.pushToken must be/,
      /WECHAT_APPS\[4\]\.pushAesKey must be/,
      /WECHAT_APPS\[5\] has unknown fields: "appid"/,
      /WECHAT_APPS\[6\] must be an object/,
    ]) {
      assert.match(message, expected);
    }
    assert.doesNotMatch(message, /topsecret/);
  });

  test('not JSON, not an array, empty: refused without echoing the value', () => {
    for (const raw of ['{"appId": "wxA", "secret": "topsecret"', '{"appId":"wxA","secret":"topsecret"}', '[]', '42']) {
      const message = problems(apps(raw));
      assert.match(message, /WECHAT_APPS must be/);
      assert.doesNotMatch(message, /topsecret/);
    }
  });

  test('the sandbox is refused with WECHAT_APPS, and simulates 1 to 9 apps when asked', () => {
    assert.match(problems({ WECHAT_SANDBOX: 'true', ...apps([{ appId: 'wxA000', secret: 'sa' }]) }), /WECHAT_SANDBOX=true is refused together/);
    assert.deepEqual(
      load({}).wechat.apps.map((a) => a.appId),
      [SANDBOX_APPID],
    );
    assert.deepEqual(
      load({ WECHAT_SANDBOX_APPS: '3' }).wechat.apps.map((a) => a.appId),
      [SANDBOX_APPID, `${SANDBOX_APPID}-2`, `${SANDBOX_APPID}-3`],
    );
    assert.match(problems({ WECHAT_SANDBOX_APPS: '10' }), /WECHAT_SANDBOX_APPS must be an integer from 1 to 9/);
    assert.match(problems({ WECHAT_SANDBOX_APPS: '2', WECHAT_APPID: 'wxA000', WECHAT_SECRET: 's' }), /WECHAT_SANDBOX_APPS applies to the sandbox only/);
  });

  test('the one-app shorthand is one app, with its push settings', () => {
    const c = load({ WECHAT_APPID: 'wxA000', WECHAT_SECRET: 'sa', WECHAT_PUSH_TOKEN: 'tokA' });
    assert.deepEqual(c.wechat.apps, [{ appId: 'wxA000', secret: 'sa', pushToken: 'tokA' }]);
    assert.match(problems({ WECHAT_APPID: 'wx:A', WECHAT_SECRET: 'sa' }), /WECHAT_APPID must be/);
  });
});
