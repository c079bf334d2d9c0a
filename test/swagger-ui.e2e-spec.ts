/**
 * The newcomer's path through Swagger UI, in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core): in sandbox mode, POST /sandbox/wx-login → paste its answer into
 * POST /wechat/login → Authorize with the token → GET /users/me answers 200. Everything is done by
 * clicking and typing in the page; a screenshot of the result goes to test-results/swagger-ui.png.
 *
 * Skipped, saying why, when no Chromium is installed (CHROMIUM_PATH overrides /usr/bin/chromium).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { createApp, type RunningApp } from '../src/bootstrap';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
/** Relative to the working directory, which `npm test` sets to the project root. */
const SCREENSHOT = join(process.cwd(), 'test-results', 'swagger-ui.png');
const skip = existsSync(CHROMIUM_PATH) ? false : `no Chromium at ${CHROMIUM_PATH}: install Debian's chromium package (.ci/run does) to run the Swagger UI browser test`;

/** Swagger UI's id for an operation block: `operations-<tag>-<operationId>`. */
const OP = {
  sandboxLogin: '#operations-sandbox-SandboxController_wxLogin',
  wechatLogin: '#operations-wechat-WechatController_login',
  usersMe: '#operations-users-UsersController_me',
};

/** Expands an operation, presses "Try it out" and returns its block. */
async function tryItOut(page: Page, selector: string): Promise<Locator> {
  const block = page.locator(selector);
  await block.waitFor({ state: 'visible' });
  if (!(await block.evaluate((el) => el.classList.contains('is-open')))) {
    await block.locator('.opblock-summary-control').first().click();
  }
  await block.locator('.try-out__btn').click();
  await block.locator('.execute').waitFor({ state: 'visible' });
  return block;
}

/** Presses "Execute" and returns the status code and body text the page shows for the live response. */
async function execute(block: Locator): Promise<{ status: number; body: string }> {
  await block.locator('.execute').click();
  const row = block.locator('.live-responses-table tbody tr.response').first();
  await row.waitFor({ state: 'visible' });
  const status = Number((await row.locator('.response-col_status').innerText()).trim());
  const body = (await row.locator('.response-col_description .highlight-code pre').first().textContent()) ?? '';
  return { status, body };
}

test('Swagger UI: sandbox wx-login → /wechat/login → Authorize → GET /users/me, all by clicking', { skip, timeout: 60_000 }, async () => {
  let db: TestDatabase | undefined;
  let running: RunningApp | undefined;
  let browser: Browser | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'wxlogin-swagger-ui-'));
  const pageErrors: string[] = [];
  try {
    db = await createTestDatabase({ schema: 'migrated' });
    running = await createApp({
      // No WECHAT_APPID/WECHAT_SECRET: sandbox mode, exactly what a newcomer gets.
      env: { NODE_ENV: 'test', DATABASE_URL: db.url, WECHAT_SANDBOX: 'true', JWT_SECRET: 'x'.repeat(40), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      logDestination: { write() {} },
    });
    assert.ok(running.simulator, 'the app should be in sandbox mode without WeChat credentials');
    await running.app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = (await running.app.getUrl()).replace('[::1]', '127.0.0.1');

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 20_000 });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Only the app itself: the page must work offline, and nothing may leak out of the test.
    await page.route('**/*', (route) => (route.request().url().startsWith(baseUrl) ? route.continue() : route.abort()));

    await page.goto(`${baseUrl}/docs`, { waitUntil: 'domcontentloaded' });
    await page.locator(OP.sandboxLogin).waitFor({ state: 'visible', timeout: 15_000 });

    // 1. POST /sandbox/wx-login with the prefilled example body.
    const sandboxBlock = await tryItOut(page, OP.sandboxLogin);
    const prefilled = await sandboxBlock.locator('textarea.body-param__text').inputValue();
    assert.ok(prefilled.trim().startsWith('{'), `the example body should be prefilled, got: ${prefilled}`);
    const wxLogin = await execute(sandboxBlock);
    assert.equal(wxLogin.status, 200, wxLogin.body);
    const loginData = JSON.parse(wxLogin.body) as Record<string, string>;
    for (const key of ['code', 'rawData', 'signature', 'encryptedData', 'iv']) assert.equal(typeof loginData[key], 'string', `${key} in ${wxLogin.body}`);

    // 2. POST /wechat/login with that answer pasted as the body.
    const loginBlock = await tryItOut(page, OP.wechatLogin);
    await loginBlock.locator('textarea.body-param__text').fill(wxLogin.body);
    const login = await execute(loginBlock);
    assert.equal(login.status, 200, login.body);
    const token = (JSON.parse(login.body) as { token?: string }).token;
    assert.ok(token && token.split('.').length === 3, `a JWT in ${login.body}`);

    // 3. Authorize with the token.
    await page.locator('.auth-wrapper .btn.authorize').click();
    const modal = page.locator('.dialog-ux .modal-ux');
    await modal.waitFor({ state: 'visible' });
    await modal.locator('.auth-container input').first().fill(token);
    await modal.locator('.auth-btn-wrapper .btn.authorize').click();
    await modal.locator('.auth-btn-wrapper .btn-done').click();
    await modal.waitFor({ state: 'hidden' });

    // 4. GET /users/me.
    const meBlock = await tryItOut(page, OP.usersMe);
    const me = await execute(meBlock);
    assert.equal(me.status, 200, me.body);
    const user = JSON.parse(me.body) as { id?: number; openId?: string };
    assert.ok(user.openId, `openId in ${me.body}`);
    // What the newcomer sees: the live response's code cell says 200 and the body shows the openId.
    await meBlock
      .locator('.live-responses-table tbody .response-col_status', { hasText: /^\s*200\s*$/ })
      .first()
      .waitFor({ state: 'visible' });
    await meBlock.locator('.live-responses-table .highlight-code', { hasText: user.openId }).waitFor({ state: 'visible' });

    // 5. A screenshot with the /users/me call and its 200 answer in view.
    await meBlock.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    // The app agrees: the token the page got opens /users/me for the same user.
    const res = await fetch(`${baseUrl}/users/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const fetched = (await res.json()) as { id?: number; openId?: string };
    assert.equal(fetched.openId, user.openId);
    assert.equal(fetched.id, user.id);
    assert.deepEqual(pageErrors, [], 'no script errors in the page');
  } finally {
    await browser?.close().catch(() => undefined);
    await running?.close().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
