#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: plays a mini program against a running server in sandbox mode, through the client
 * library (client/, built by `npm run build:client`) on a Node stand-in for `wx` (scripts/sandbox-wx.js):
 * silent login (wx.login → POST /wechat/login) → GET /users/me → chooseAvatar + wx.uploadFile
 * (POST /users/me/avatar) → WeChat's image check approves it → <input type="nickname"> → PATCH /users/me
 * (text check), and a nickname WeChat refuses → getPhoneNumber → POST /wechat/phone → GET /wechat/session
 * → a privacy event pushed by WeChat clears the profile → POST /auth/logout → the old token is refused →
 * the next call logs in again by itself. Prints each step with the HTTP exchanges under it.
 * Target: API_URL, or http://127.0.0.1:$PORT (3000). Exits non-zero on any unexpected answer.
 */
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');
const { createSandboxWx } = require('./sandbox-wx');

function loadClient() {
  try {
    // CLIENT_DIST: where `npm test` built the client for its run (the demo's own test uses it).
    return require(process.env.CLIENT_DIST || join(__dirname, '..', 'client', 'dist'));
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    console.error('The client library is not built: run `npm run demo` (it builds it), or `npm run build:client` first.');
    process.exit(1);
  }
}
const { createClient, DEFAULT_STORAGE_KEY, isApiError } = loadClient();

const base = (process.env.API_URL || `http://127.0.0.1:${process.env.PORT || 3000}`).replace(/\/+$/, '');
const color = process.stdout.isTTY ? (c, s) => `\x1b[${c}m${s}\x1b[0m` : (_c, s) => s;
let step = 0;
let trace = [];

const wx = createSandboxWx({
  sandboxUrl: base,
  onExchange: (e) => {
    const bearer = e.authorization ? `  (Bearer …${e.authorization.slice(-8)})` : '';
    const how = e.api === 'login' ? 'wx.login → ' : e.api === 'uploadFile' ? 'wx.uploadFile → ' : '';
    trace.push(`${how}${e.method} ${e.path}${bearer} → ${e.status}`);
  },
});
const api = createClient({ baseUrl: base, platform: wx });

/** Runs one step; the action may throw to fail it. Prints the step, then the HTTP exchanges it made. */
async function run(title, action) {
  step += 1;
  trace = [];
  let result;
  let failure;
  try {
    result = await action();
  } catch (err) {
    failure = err;
  }
  console.log(`${color(failure ? 31 : 32, failure ? '✗' : '✓')} ${step}. ${title}`);
  for (const line of trace) console.log(`     ${line}`);
  if (failure) {
    if (isApiError(failure) && failure.code === 'WX_LOGIN_FAILED' && /sandbox answered 404/.test(failure.message)) {
      console.error(
        color(
          31,
          `     ${failure.code}: ${base} answers, but not in sandbox mode (POST /sandbox/wx-login is 404). The demo needs a sandbox: npm start without WeChat credentials, or WECHAT_SANDBOX=true.`,
        ),
      );
    } else if (isApiError(failure) && (failure.code === 'NETWORK_ERROR' || failure.code === 'WX_LOGIN_FAILED')) {
      console.error(color(31, `     ${failure.code}: cannot reach ${base} or its sandbox (${failure.message}). Is the server running (npm start)?`));
    } else {
      console.error(color(31, `     ${isApiError(failure) ? `${failure.code} (${failure.statusCode}): ` : ''}${failure.message}`));
    }
    process.exit(1);
  }
  return result;
}

function show(label, value) {
  console.log(`     ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

/** A generated avatar in a temporary file, as `<button open-type="chooseAvatar">` hands one to the page. */
async function avatarFile() {
  const sharp = require('sharp');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="480"><rect width="480" height="480" fill="#2a7ab8"/><circle cx="240" cy="190" r="90" fill="#f5d7b0"/><rect x="110" y="300" width="260" height="180" rx="90" fill="#f5d7b0"/></svg>`;
  const path = join(mkdtempSync(join(tmpdir(), 'wxlogin-demo-')), 'tmp_avatar.png');
  writeFileSync(path, await sharp(Buffer.from(svg)).png().toBuffer());
  return path;
}

/** A plain HTTP call outside the mini program (WeChat's side, or a check the library would not make). */
async function plain(method, path, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  trace.push(`${method} ${path}${token ? `  (Bearer …${token.slice(-8)})` : ''} → ${res.status}`);
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text };
}

async function main() {
  console.log(`Mini program demo against ${base}\n`);

  const login = await run('log in silently: wx.login (sandbox), then the code to the service', () => api.login());
  show('user', { id: login.user.id, openId: login.user.openId });
  show('token', `${login.tokenType} …${login.token.slice(-12)} (expires in ${login.expiresIn} s, kept in storage)`);
  if (JSON.stringify(login).includes('session_key')) throw new Error('the login answer leaked session_key');

  const me = await run('who am I', () => api.me());
  show('user', { id: me.id, nickname: me.nickname });

  // Today's flow: <button open-type="chooseAvatar"> gives a temporary file, wx.uploadFile sends it.
  const uploaded = await run('choose an avatar and upload it (wx.uploadFile)', async () => {
    const file = await avatarFile();
    try {
      const user = await api.uploadAvatar(file);
      if (user.avatarPending !== true) throw new Error(`expected avatarPending: true, got ${JSON.stringify(user.avatarPending)}`);
      return user;
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
  });
  show('user', { avatarUrl: uploaded.avatarUrl, avatarPending: uploaded.avatarPending });

  const approved = await run("WeChat's image check approved it (wxa_media_check pushed to POST /wechat/push)", async () => {
    for (const started = Date.now(); Date.now() - started < 10_000; await new Promise((r) => setTimeout(r, 200))) {
      const user = await api.me();
      if (!user.avatarPending && user.avatarUrl) {
        trace = [`${trace[trace.length - 1]}${trace.length > 1 ? ` (the last of ${trace.length} polls)` : ''}`];
        return user;
      }
    }
    throw new Error('the avatar was not approved within 10 s');
  });
  show('avatarUrl', approved.avatarUrl);
  const image = await fetch(approved.avatarUrl);
  show(
    'GET avatarUrl',
    `${image.status} ${image.headers.get('content-type')}, ${(await image.arrayBuffer()).byteLength} bytes, ETag ${image.headers.get('etag')}, ${image.headers.get('cache-control')}`,
  );

  // <input type="nickname">: the typed nickname passes WeChat's text check before it is stored.
  const patched = await run('type a nickname (text check passes)', () => api.updateProfile({ nickname: '小程序 Demo', city: 'Shanghai' }));
  show('profile', { nickname: patched.nickname, city: patched.city });
  const refusedNick = await run('type a nickname WeChat judges risky', async () => {
    try {
      await api.updateProfile({ nickname: 'a risky name' });
    } catch (err) {
      if (isApiError(err) && err.code === 'CONTENT_RISKY') return err;
      throw err;
    }
    throw new Error('the risky nickname was accepted');
  });
  show('ApiError', { code: refusedNick.code, statusCode: refusedNick.statusCode, message: refusedNick.message });

  const phoneCode = await run('getPhoneNumber button (sandbox)', () => wx.sandboxPhoneCode('13800138000'));
  const phone = await run('exchange the phone code', () => api.bindPhone(phoneCode));
  show('phone', phone);

  const session = await run('is the WeChat session still valid?', () => api.request({ path: '/wechat/session' }));
  show('session', session);

  // WeChat tells the service that the user withdrew nickname and avatar (RevokeInfo 6) in its
  // privacy settings: the sandbox sends that push, signed and encrypted, to POST /wechat/push.
  const pushed = await run('WeChat pushes a privacy event: nickname and avatar withdrawn (sandbox)', async () => {
    const res = await plain('POST', '/sandbox/push', { body: { event: 'user_authorization_revoke', openId: login.user.openId, revokeInfo: '6' } });
    if (res.status !== 202) throw new Error(`expected 202, got ${res.status}: ${res.text.slice(0, 300)}`);
    if (res.body.answer !== 'success') throw new Error(`the push route answered ${res.body.status} ${res.body.answer}`);
    return res.body;
  });
  show('push', `${pushed.mode} mode, ${pushed.format} → POST /wechat/push answered ${pushed.status} ${pushed.answer}`);
  const cleared = await run('the profile is cleared', async () => {
    const user = await api.me();
    if (user.nickname !== null || user.avatarUrl !== null) throw new Error('nickname and avatar were not cleared by the push');
    return user;
  });
  show('profile', { nickname: cleared.nickname, avatarUrl: cleared.avatarUrl, city: cleared.city });

  const oldToken = wx.getStorageSync(DEFAULT_STORAGE_KEY).token;
  await run('log out everywhere', () => api.logout());
  show('storage', wx.getStorageSync(DEFAULT_STORAGE_KEY) === '' ? 'token forgotten' : 'token still stored');

  const refused = await run('the old token is refused', async () => {
    const res = await plain('GET', '/users/me', { token: oldToken });
    if (res.status !== 401) throw new Error(`expected 401, got ${res.status}: ${res.text.slice(0, 300)}`);
    return res.body;
  });
  show('answer', refused);

  const again = await run('the next call logs in again by itself', () => api.me());
  show('user', { id: again.id, nickname: again.nickname });
  if (again.id !== login.user.id) throw new Error(`logged in as user ${again.id}, expected ${login.user.id}`);
  if (wx.counts.login !== 2) throw new Error(`wx.login ran ${wx.counts.login} times, expected 2`);

  console.log(color(32, `\nAll ${step} steps passed.`));
}

main().catch((err) => {
  console.error(color(31, `✗ ${err.message}`));
  process.exit(1);
});
