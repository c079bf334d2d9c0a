#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: plays a mini program against a running server in sandbox mode.
 * wx.login → POST /wechat/login → GET /users/me → PATCH /users/me → getPhoneNumber →
 * POST /wechat/phone → GET /wechat/session → a privacy event pushed by WeChat clears the profile →
 * POST /auth/logout → the old token is refused.
 * Target: API_URL, or http://127.0.0.1:$PORT (3000). Exits non-zero on any unexpected answer.
 */
const base = (process.env.API_URL || `http://127.0.0.1:${process.env.PORT || 3000}`).replace(/\/+$/, '');
const color = process.stdout.isTTY ? (c, s) => `\x1b[${c}m${s}\x1b[0m` : (_c, s) => s;
let step = 0;

async function call(title, method, path, { body, token, expect }) {
  step += 1;
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    console.error(color(31, `✗ cannot reach ${base}: ${err.cause?.code || err.message}. Is the server running (npm start)?`));
    process.exit(1);
  }
  const text = await res.text();
  const json = text ? safeJson(text) : undefined;
  const ok = res.status === expect;
  console.log(`${color(ok ? 32 : 31, ok ? '✓' : '✗')} ${step}. ${title}`);
  console.log(`     ${method} ${path}${token ? '  (Bearer …' + token.slice(-8) + ')' : ''} → ${res.status}`);
  if (!ok) {
    console.error(color(31, `     expected ${expect}, got ${res.status}: ${text.slice(0, 300)}`));
    process.exit(1);
  }
  return json;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function show(label, value) {
  console.log(`     ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

async function main() {
  console.log(`Mini program demo against ${base}\n`);
  const wx = await call('wx.login + wx.getUserInfo (sandbox)', 'POST', '/sandbox/wx-login', {
    body: { nickName: 'Demo User', gender: 1, country: 'China', province: 'Zhejiang', city: 'Hangzhou' },
    expect: 200,
  });
  show('code', wx.code);
  show('rawData', wx.rawData.slice(0, 60) + '…');

  const login = await call('log in with the code, rawData, signature, encryptedData, iv', 'POST', '/wechat/login', { body: wx, expect: 200 });
  show('user', { id: login.user.id, openId: login.user.openId, nickname: login.user.nickname, city: login.user.city });
  show('token', `${login.tokenType} …${login.token.slice(-12)} (expires in ${login.expiresIn} s)`);
  if (JSON.stringify(login).includes('session_key')) throw new Error('the login answer leaked session_key');
  const token = login.token;

  const me = await call('who am I', 'GET', '/users/me', { token, expect: 200 });
  show('nickname', me.nickname);

  const patched = await call('update the profile', 'PATCH', '/users/me', { token, body: { nickname: 'Demo User (edited)', city: 'Shanghai' }, expect: 200 });
  show('profile', { nickname: patched.nickname, city: patched.city });

  const phoneCode = await call('getPhoneNumber button (sandbox)', 'POST', '/sandbox/phone-code', { body: { phoneNumber: '13800138000' }, expect: 200 });
  const phone = await call('exchange the phone code', 'POST', '/wechat/phone', { token, body: { code: phoneCode.code }, expect: 200 });
  show('phone', phone);

  const session = await call('is the WeChat session still valid?', 'GET', '/wechat/session', { token, expect: 200 });
  show('session', session);

  // WeChat tells the service that the user withdrew nickname and avatar (RevokeInfo 6) in its
  // privacy settings: the sandbox sends that push, signed and encrypted, to POST /wechat/push.
  const pushed = await call('WeChat pushes a privacy event: nickname and avatar withdrawn (sandbox)', 'POST', '/sandbox/push', {
    body: { event: 'user_authorization_revoke', openId: login.user.openId, revokeInfo: '6' },
    expect: 202,
  });
  show('push', `${pushed.mode} mode, ${pushed.format} → POST /wechat/push answered ${pushed.status} ${pushed.answer}`);
  if (pushed.answer !== 'success') throw new Error(`the push route answered ${pushed.status} ${pushed.answer}`);
  const cleared = await call('the profile is cleared', 'GET', '/users/me', { token, expect: 200 });
  show('profile', { nickname: cleared.nickname, avatarUrl: cleared.avatarUrl, city: cleared.city });
  if (cleared.nickname !== null || cleared.avatarUrl !== null) throw new Error('nickname and avatar were not cleared by the push');

  await call('log out everywhere', 'POST', '/auth/logout', { token, expect: 204 });
  const refused = await call('the old token is refused', 'GET', '/users/me', { token, expect: 401 });
  show('answer', refused);

  console.log(color(32, `\nAll ${step} steps passed.`));
}

main().catch((err) => {
  console.error(color(31, `✗ ${err.message}`));
  process.exit(1);
});
