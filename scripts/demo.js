#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: plays a mini program against a running server in sandbox mode, through the client
 * library (client/, built by `npm run build:client`) on a Node stand-in for `wx` (scripts/sandbox-wx.js):
 * silent login (wx.login → POST /wechat/login) → GET /users/me → PATCH /users/me → avatar upload
 * (wx.uploadFile → POST /users/me/avatar) → getPhoneNumber →
 * POST /wechat/phone → GET /wechat/session → POST /auth/logout → the old token is refused → the next
 * call logs in again by itself. Prints each step with the HTTP exchanges under it.
 * Target: API_URL, or http://127.0.0.1:$PORT (3000). Exits non-zero on any unexpected answer.
 */
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');
const { createClient, DEFAULT_STORAGE_KEY, isApiError } = loadClient();
const { createSandboxWx } = require('./sandbox-wx');

function loadClient() {
  try {
    return require(join(__dirname, '..', 'client', 'dist'));
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    console.error('The client library is not built: run `npm run demo` (it builds it), or `npm run build:client` first.');
    process.exit(1);
  }
}

const base = (process.env.API_URL || `http://127.0.0.1:${process.env.PORT || 3000}`).replace(/\/+$/, '');
const color = process.stdout.isTTY ? (c, s) => `\x1b[${c}m${s}\x1b[0m` : (_c, s) => s;
let step = 0;
let trace = [];

const wx = createSandboxWx({
  sandboxUrl: base,
  onExchange: (e) => {
    const bearer = e.authorization ? `  (Bearer …${e.authorization.slice(-8)})` : '';
    trace.push(`${e.api === 'login' ? 'wx.login → ' : ''}${e.method} ${e.path}${bearer} → ${e.status}`);
  },
});
const api = createClient({ baseUrl: base, platform: wx });

/** Runs one step; `check` may throw to fail it. Prints the step, then the HTTP exchanges it made. */
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
    if (isApiError(failure) && (failure.code === 'NETWORK_ERROR' || failure.code === 'WX_LOGIN_FAILED')) {
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

/** A real picture in a temporary file, as the chooseAvatar button hands one to the page. */
async function pictureFile() {
  const sharp = require('sharp');
  const path = join(mkdtempSync(join(tmpdir(), 'wxlogin-demo-')), 'tmp_avatar.png');
  writeFileSync(path, await sharp({ create: { width: 128, height: 128, channels: 3, background: '#1e8cc8' } }).png().toBuffer());
  return path;
}

/** A plain wx.request, outside the library (which would log in again on a 401). */
function rawRequest(method, path, token) {
  return new Promise((resolve, reject) =>
    wx.request({ url: base + path, method, header: { Authorization: `Bearer ${token}` }, success: resolve, fail: (e) => reject(new Error(e.errMsg)) }),
  );
}

async function main() {
  console.log(`Mini program demo against ${base}\n`);

  const login = await run('log in silently: wx.login (sandbox), then the code to the service', () => api.login());
  show('user', { id: login.user.id, openId: login.user.openId });
  show('token', `${login.tokenType} …${login.token.slice(-12)} (expires in ${login.expiresIn} s, kept in storage)`);
  if (JSON.stringify(login).includes('session_key')) throw new Error('the login answer leaked session_key');

  const me = await run('who am I', () => api.me());
  show('user', { id: me.id, nickname: me.nickname });

  const patched = await run('update the profile', () => api.updateProfile({ nickname: 'Demo User (edited)', city: 'Shanghai' }));
  show('profile', { nickname: patched.nickname, city: patched.city });

  const avatar = await run('chooseAvatar button: upload the picture (made on the spot)', async () => {
    const file = await pictureFile();
    try {
      const user = await api.uploadAvatar(file);
      if (user.avatarPending !== true) throw new Error(`expected avatarPending: true, got ${JSON.stringify(user.avatarPending)}`);
      return user;
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
  });
  show('avatar', { avatarPending: avatar.avatarPending, avatarUrl: avatar.avatarUrl });

  const phoneCode = await run('getPhoneNumber button (sandbox)', () => wx.sandboxPhoneCode('13800138000'));
  const phone = await run('exchange the phone code', () => api.bindPhone(phoneCode));
  show('phone', phone);

  const session = await run('is the WeChat session still valid?', () => api.request({ path: '/wechat/session' }));
  show('session', session);

  const oldToken = wx.getStorageSync(DEFAULT_STORAGE_KEY).token;
  await run('log out everywhere', () => api.logout());
  show('storage', wx.getStorageSync(DEFAULT_STORAGE_KEY) === '' ? 'token forgotten' : 'token still stored');

  const refused = await run('the old token is refused', async () => {
    const res = await rawRequest('GET', '/users/me', oldToken);
    if (res.statusCode !== 401) throw new Error(`expected 401, got ${res.statusCode}: ${JSON.stringify(res.data)}`);
    return res.data;
  });
  show('answer', refused);

  const again = await run('the next call logs in again by itself', () => api.me());
  show('user', { id: again.id, nickname: again.nickname });
  // WeChat's image check answers by push; the sandbox's verdict has normally arrived by now.
  show('avatar', again.avatarPending ? 'still awaiting the image check' : again.avatarUrl);
  if (again.id !== login.user.id) throw new Error(`logged in as user ${again.id}, expected ${login.user.id}`);
  if (wx.counts.login !== 2) throw new Error(`wx.login ran ${wx.counts.login} times, expected 2`);

  console.log(color(32, `\nAll ${step} steps passed.`));
}

main().catch((err) => {
  console.error(color(31, `✗ ${err.message}`));
  process.exit(1);
});
