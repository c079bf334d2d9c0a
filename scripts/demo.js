#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: plays a mini program against a running server in sandbox mode.
 * wx.login → POST /wechat/login → GET /users/me → chooseAvatar + wx.uploadFile (POST /users/me/avatar)
 * → WeChat's image check approves it → <input type="nickname"> → PATCH /users/me (text check), and a
 * nickname WeChat refuses → getPhoneNumber →
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

/** A generated avatar (what chooseAvatar hands the mini program as a temporary file). */
function makeAvatar() {
  const sharp = require('sharp');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="480"><rect width="480" height="480" fill="#2a7ab8"/><circle cx="240" cy="190" r="90" fill="#f5d7b0"/><rect x="110" y="300" width="260" height="180" rx="90" fill="#f5d7b0"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** wx.uploadFile({ url, filePath, name: 'file', header: { Authorization } }): multipart/form-data, POST. */
async function uploadFile(title, path, { token, bytes, expect }) {
  step += 1;
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'image/png' }), 'tmp_avatar.png');
  const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const text = await res.text();
  const ok = res.status === expect;
  console.log(`${color(ok ? 32 : 31, ok ? '✓' : '✗')} ${step}. ${title}`);
  console.log(`     POST ${path}  (multipart/form-data, file ${bytes.length} bytes) → ${res.status}`);
  if (!ok) {
    console.error(color(31, `     expected ${expect}, got ${res.status}: ${text.slice(0, 300)}`));
    process.exit(1);
  }
  return safeJson(text);
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

  // Today's flow: <button open-type="chooseAvatar"> gives a temporary file, wx.uploadFile sends it.
  const uploaded = await uploadFile('choose an avatar and upload it (wx.uploadFile)', '/users/me/avatar', { token, bytes: await makeAvatar(), expect: 202 });
  show('user', { avatarUrl: uploaded.avatarUrl, avatarPending: uploaded.avatarPending });
  let approved = uploaded;
  for (const started = Date.now(); approved.avatarPending && Date.now() - started < 10_000; ) {
    await new Promise((r) => setTimeout(r, 200));
    approved = await (await fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${token}` } })).json();
  }
  step += 1;
  if (approved.avatarPending || !approved.avatarUrl) throw new Error('the avatar was not approved within 10 s');
  console.log(`${color(32, '✓')} ${step}. WeChat's image check approved it (wxa_media_check pushed to POST /wechat/push)`);
  show('avatarUrl', approved.avatarUrl);
  const image = await fetch(approved.avatarUrl);
  show('GET avatarUrl', `${image.status} ${image.headers.get('content-type')}, ${(await image.arrayBuffer()).byteLength} bytes, ETag ${image.headers.get('etag')}, ${image.headers.get('cache-control')}`);

  // <input type="nickname">: the typed nickname passes WeChat's text check before it is stored.
  const patched = await call('type a nickname (text check passes)', 'PATCH', '/users/me', { token, body: { nickname: '小程序 Demo', city: 'Shanghai' }, expect: 200 });
  show('profile', { nickname: patched.nickname, city: patched.city });
  const refusedNick = await call('type a nickname WeChat judges risky', 'PATCH', '/users/me', { token, body: { nickname: 'a risky name' }, expect: 400 });
  show('answer', refusedNick);

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
