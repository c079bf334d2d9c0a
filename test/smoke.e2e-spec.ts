import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './support/test-app';

describe('smoke: login then a guarded route', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });

  test('wx.login data gives a token that opens GET /users/me', async () => {
    const login = await app.login({ nickName: 'Smoke' });
    assert.equal(login.status, 200, login.text);
    const me = await app.request('GET', '/users/me', { token: login.body.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.nickname, 'Smoke');
    const rows = await app.db.query('SELECT open_id FROM wechat_user');
    assert.equal(rows.length, 1);
  });
});
