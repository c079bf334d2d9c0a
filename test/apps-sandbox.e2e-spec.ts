import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApp, type RunningApp } from '../src/bootstrap';
import { SANDBOX_APPID } from '../src/config/configuration';
import { callApp, TEST_JWT_SECRET } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** The sandbox simulating two mini programs of one Open Platform account (WECHAT_SANDBOX_APPS=2). */
describe('sandbox with two mini programs', () => {
  const SECOND = `${SANDBOX_APPID}-2`;
  let running: RunningApp;
  let db: TestDatabase;
  let dataDir: string;
  let baseUrl: string;
  const call = (method: string, path: string, opts?: Parameters<typeof callApp>[3]) => callApp(baseUrl, method, path, opts);

  before(async () => {
    db = await createTestDatabase({ schema: 'migrated' });
    dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-apps-sandbox-'));
    running = await createApp({
      env: { NODE_ENV: 'test', DATABASE_URL: db.url, WECHAT_SANDBOX: 'true', WECHAT_SANDBOX_APPS: '2', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'warn', DATA_DIR: dataDir },
      logDestination: { write: () => undefined },
    });
    await running.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = (await running.app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  after(async () => {
    await running?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('one person (one unionId) gets its own openid in each app, and one account', async () => {
    assert.deepEqual(
      running.simulator!.apps.map((a) => a.appId),
      [SANDBOX_APPID, SECOND],
    );
    const logins = [];
    for (const appId of [SANDBOX_APPID, SECOND, SECOND]) {
      const wx = await call('POST', '/sandbox/wx-login', { body: { appId, unionId: 'uSandboxPerson1', nickName: 'Two Apps' } });
      assert.equal(wx.status, 200, wx.text);
      assert.equal(wx.body.appId, appId, 'the answer is the login body, appId included');
      const login = await call('POST', '/wechat/login', { body: wx.body });
      assert.equal(login.status, 200, login.text);
      logins.push(login.body);
    }
    assert.equal(new Set(logins.map((l) => l.user.id)).size, 1, 'one account');
    assert.notEqual(logins[0].user.openId, logins[1].user.openId, 'an openid per app');
    assert.equal(logins[1].user.openId, logins[2].user.openId, 'the same openid again in the same app');
    assert.equal(logins[2].user.identities.length, 2);

    // Without appId, the login is refused (several apps); an unknown app is refused by the sandbox too.
    const wx = await call('POST', '/sandbox/wx-login', { body: { appId: SECOND } });
    const { appId: _omitted, ...withoutAppId } = wx.body;
    assert.equal((await call('POST', '/wechat/login', { body: withoutAppId })).body.code, 'VALIDATION_FAILED');
    assert.equal((await call('POST', '/sandbox/wx-login', { body: { appId: 'wxNotSimulated' } })).status, 400);

    // The second app pushes to its own route, signed with its own credentials: the account's profile is cleared.
    const pushed = await call('POST', '/sandbox/push', { body: { appId: SECOND, event: 'user_authorization_revoke', openId: logins[1].user.openId, revokeInfo: '6' } });
    assert.equal(pushed.status, 202, pushed.text);
    assert.equal(pushed.body.answer, 'success', pushed.text);
    const me = await call('GET', '/users/me', { token: logins[0].token });
    assert.equal(me.body.nickname, null);
    assert.equal(me.body.openId, logins[0].user.openId);

    // Phone codes per app.
    const phone = await call('POST', '/sandbox/phone-code', { body: { appId: SECOND, openId: logins[1].user.openId } });
    assert.equal((await call('POST', '/wechat/phone', { token: logins[0].token, body: { code: phone.body.code } })).body.code, 'PHONE_CODE_INVALID');
    assert.equal((await call('POST', '/wechat/phone', { token: logins[1].token, body: { code: phone.body.code } })).status, 200);
  });
});
