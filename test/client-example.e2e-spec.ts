/**
 * The README's "From a mini program" code is client/examples/: this test checks the README quotes
 * those files as they are, then runs them as the mini program would (App, Page, getApp and the global
 * wx provided, the package resolved to the shipped build) against the service in sandbox mode.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compileFunction } from 'node:vm';
import { JSCODE2SESSION_PATH } from '../src/sandbox/wechat-simulator';
import type { SandboxWx, WxExchange } from '../scripts/sandbox-wx';
import { clientDist, eventually, loadClient, loadSandboxWx, repoRoot, startSandboxApp, tempImage, type SandboxApp } from './support/client-support';
import { callApp } from './support/test-app';

const EXAMPLES = join(repoRoot(), 'client', 'examples');
const FILES = ['app.js', 'pages/profile/profile.js'];
const { DEFAULT_STORAGE_KEY } = loadClient();
const { createSandboxWx } = loadSandboxWx();

interface PageInstance {
  data: { user: any; error: string };
  onLoad(): Promise<void>;
  onNicknameBlur(e: { detail: { value: string } }): Promise<void>;
  onGetPhoneNumber(e: { detail: { code?: string; errMsg?: string } }): Promise<void>;
  onChooseAvatar(e: { detail: { avatarUrl: string } }): Promise<void>;
  onLogout(): Promise<void>;
}

/** Runs one example file as a mini program module, with the given globals. */
function runModule(file: string, globals: Record<string, unknown>, modules: Record<string, unknown>): void {
  const source = readFileSync(join(EXAMPLES, file), 'utf8');
  const names = ['require', 'module', 'exports', ...Object.keys(globals)];
  const fn = compileFunction(source, names, { filename: join(EXAMPLES, file) });
  const requireFn = (name: string) => {
    if (!(name in modules)) throw new Error(`${file} requires ${name}, which a mini program would not have`);
    return modules[name];
  };
  const module = { exports: {} };
  fn(requireFn, module, module.exports, ...Object.values(globals));
}

/** A mini program launched on one phone: app.js, then the profile page (its onLoad not yet called). */
function launch(app: SandboxApp) {
  const exchanges: WxExchange[] = [];
  const wx: SandboxWx = createSandboxWx({ sandboxUrl: app.baseUrl, onExchange: (e) => exchanges.push(e) });
  const g = globalThis as { wx?: unknown };
  g.wx = wx; // the library defaults to the global wx, as in a mini program
  let appInstance: Record<string, any> | undefined;
  let pageDefinition: Record<string, any> | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the shipped CommonJS build, as a mini program loads it
    const modules = { 'wechat-miniprogram-login-client': require(clientDist()), './config': { apiBaseUrl: app.baseUrl } };
    runModule('app.js', { App: (def: Record<string, any>) => (appInstance = def) }, modules);
    runModule('pages/profile/profile.js', { Page: (def: Record<string, any>) => (pageDefinition = def), getApp: () => appInstance }, modules);
  } finally {
    delete g.wx;
  }
  assert.ok(pageDefinition, 'the page registered itself');
  const page = { ...pageDefinition, data: structuredClone(pageDefinition.data) } as unknown as PageInstance & { setData(patch: object): void };
  page.setData = (patch: object) => Object.assign(page.data, patch);
  const logins = () => exchanges.filter((e) => e.api === 'request' && e.path === '/wechat/login').length;
  return { wx, page, exchanges, logins };
}

test('the README quotes every example file as it is', () => {
  const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## From a mini program'));
  assert.ok(readme.includes('## From a mini program'), 'README has a "From a mini program" section');
  for (const file of FILES) {
    const source = readFileSync(join(EXAMPLES, file), 'utf8').trimEnd();
    assert.ok(section.includes('```js\n' + source + '\n```'), `README does not quote client/examples/${file} as it is`);
  }
});

describe('the README example page against the sandbox service', () => {
  let app: SandboxApp;
  const tempDir = mkdtempSync(join(tmpdir(), 'wxlogin-example-'));
  before(async () => {
    app = await startSandboxApp();
  });
  after(async () => {
    await app?.close();
    rmSync(tempDir, { recursive: true, force: true });
  });

  test('onLoad logs in silently and shows the user; avatar, nickname, phone, logout', async () => {
    const { wx, page, exchanges, logins } = launch(app);
    await page.onLoad();
    assert.equal(page.data.error, '');
    assert.equal(page.data.user?.openId, wx.openId);
    assert.equal(logins(), 1);

    await page.onChooseAvatar({ detail: { avatarUrl: await tempImage(tempDir) } });
    assert.equal(page.data.error, '');
    assert.equal(page.data.user.avatarPending, true);
    assert.deepEqual(
      exchanges.filter((e) => e.api === 'uploadFile').map((e) => `${e.method} ${e.path} ${e.status}`),
      ['POST /users/me/avatar 202'],
    );

    await page.onNicknameBlur({ detail: { value: '小明' } });
    assert.equal(page.data.error, '');
    assert.equal(page.data.user.nickname, '小明');
    await page.onNicknameBlur({ detail: { value: 'risky 小明' } });
    assert.equal(page.data.error, '内容未通过安全检查,请换一个');
    assert.equal(page.data.user.nickname, '小明', 'the user shown stays');

    // The image check's verdict arrives; the next load shows the new avatar.
    await eventually(async () => {
      await page.onLoad();
      return page.data.user.avatarPending ? undefined : true;
    });
    assert.ok(page.data.user.avatarUrl?.startsWith(`${app.baseUrl}/avatars/`));

    await page.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
    assert.equal(page.data.user.mobile, null, 'declined: nothing redeemed');
    await page.onGetPhoneNumber({ detail: { code: await wx.sandboxPhoneCode('13800138000') } });
    assert.equal(page.data.error, '');
    assert.equal(page.data.user.mobile, '13800138000');
    assert.equal(page.data.user.hasMobile, true);

    const token = (wx.getStorageSync(DEFAULT_STORAGE_KEY) as { token: string }).token;
    await page.onLogout();
    assert.equal(page.data.user, null);
    assert.equal(wx.getStorageSync(DEFAULT_STORAGE_KEY), '');
    assert.equal((await callApp(app.baseUrl, 'GET', '/users/me', { token })).status, 401);
    assert.equal(logins(), 1);
  });

  test('the page shows the message for the service error code', async () => {
    const { page } = launch(app);
    app.simulator.fail(JSCODE2SESSION_PATH, { errcode: 45011 }, 1);
    await page.onLoad();
    assert.equal(page.data.user, null);
    assert.equal(page.data.error, '操作太频繁,请稍后再试');

    await page.onLoad();
    assert.equal(page.data.error, '');
    const loaded: unknown = page.data.user;
    assert.ok(loaded);

    await page.onNicknameBlur({ detail: { value: 'x'.repeat(65) } });
    assert.equal(page.data.error, '出错了,请稍后再试', 'a code without its own message gets the general one');
    assert.equal(page.data.user, loaded, 'the user shown stays');
  });
});
