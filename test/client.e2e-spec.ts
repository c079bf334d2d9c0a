/**
 * The mini program client library (client/, as built for shipping) driven by a Node stand-in for `wx`
 * whose request/uploadFile/login speak HTTP to the real service in sandbox mode.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freeLoopbackPort } from '../src/common/system';
import { JSCODE2SESSION_PATH } from '../src/sandbox/wechat-simulator';
import type { WxExchange } from '../scripts/sandbox-wx';
import { eventually, loadClient, loadSandboxWx, startSandboxApp, tempImage, type SandboxApp } from './support/client-support';
import { callApp } from './support/test-app';

const { createClient, ApiError, DEFAULT_STORAGE_KEY } = loadClient();
const { createSandboxWx } = loadSandboxWx();
type Client = ReturnType<typeof createClient>;
type StoredSession = { token: string; expiresAt: number };

/** One phone: a fake wx for one WeChat user, the client on it, and every HTTP exchange it made. */
function phone(baseUrl: string, opts: { sandboxUrl?: string; now?: () => number } = {}) {
  const exchanges: WxExchange[] = [];
  const wx = createSandboxWx({ sandboxUrl: opts.sandboxUrl ?? baseUrl, onExchange: (e) => exchanges.push(e) });
  const api = createClient({ baseUrl, platform: wx, now: opts.now });
  const requests = (method: string, path: string) => exchanges.filter((e) => e.api === 'request' && e.method === method && e.path === path);
  return {
    wx,
    api,
    exchanges,
    requests,
    logins: () => requests('POST', '/wechat/login').length,
    stored: () => wx.getStorageSync(DEFAULT_STORAGE_KEY) as StoredSession | '',
  };
}

function storedToken(p: ReturnType<typeof phone>): string {
  const s = p.stored();
  assert.ok(s && typeof s.token === 'string', 'a token is stored');
  return s.token;
}

const isApiError = (code: string, statusCode: number) => (err: unknown) => {
  assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
  assert.ok(err instanceof Error);
  assert.equal(err.code, code, err.message);
  assert.equal(err.statusCode, statusCode);
  return true;
};

describe('mini program client against the sandbox service', () => {
  let app: SandboxApp;
  const tempDir = mkdtempSync(join(tmpdir(), 'wxlogin-client-files-'));

  before(async () => {
    app = await startSandboxApp();
  });
  after(async () => {
    await app?.close();
    rmSync(tempDir, { recursive: true, force: true });
  });

  test('ten concurrent requests with no token make exactly one login, and all carry its token', async () => {
    const p = phone(app.baseUrl);
    const upstreamBefore = app.simulator.countRequests(JSCODE2SESSION_PATH);
    const t0 = Date.now();
    const users = await Promise.all(Array.from({ length: 10 }, () => p.api.me()));
    const t1 = Date.now();

    assert.equal(p.wx.counts.login, 1, 'wx.login calls');
    assert.equal(p.logins(), 1, 'POST /wechat/login calls');
    assert.equal(app.simulator.countRequests(JSCODE2SESSION_PATH) - upstreamBefore, 1, 'jscode2session calls WeChat received');
    assert.deepEqual(new Set(users.map((u) => u.openId)), new Set([p.wx.openId]));

    const stored = p.stored() as StoredSession;
    const gets = p.requests('GET', '/users/me');
    assert.equal(gets.length, 10);
    for (const g of gets) {
      assert.equal(g.status, 200);
      assert.equal(g.authorization, `Bearer ${stored.token}`);
    }
    // Expiry kept as a time: the service's expiresIn (7 days by default) from the login.
    assert.ok(stored.expiresAt >= t0 + 604_800_000 && stored.expiresAt <= t1 + 604_800_000, `expiresAt ${stored.expiresAt}`);
  });

  test('the stored token survives a relaunch: a new client on the same storage logs in no more', async () => {
    const p = phone(app.baseUrl);
    const first = await p.api.me();
    const relaunched = createClient({ baseUrl: app.baseUrl, platform: p.wx });
    const again = await relaunched.me();
    assert.equal(again.id, first.id);
    assert.equal(p.logins(), 1);
  });

  test('an expired stored token is renewed before the request, not sent to be refused', async () => {
    const p = phone(app.baseUrl);
    await p.api.login();
    // A week and a day later (the token lives a week).
    const later = createClient({ baseUrl: app.baseUrl, platform: p.wx, now: () => Date.now() + 8 * 86_400_000 });
    const before = p.exchanges.length;
    await later.me();
    const sent = p.exchanges.slice(before).filter((e) => e.api === 'request');
    assert.deepEqual(
      sent.map((e) => `${e.method} ${e.path} ${e.status}`),
      ['POST /wechat/login 200', 'GET /users/me 200'],
    );
    // The renewed session's expiry is counted on that (later) clock.
    assert.ok((p.stored() as StoredSession).expiresAt > Date.now() + 14 * 86_400_000);
  });

  test('a token revoked elsewhere (POST /auth/logout with the same token) makes exactly one re-login, shared by concurrent calls', async () => {
    const p = phone(app.baseUrl);
    const user = await p.api.me();
    const old = storedToken(p);
    assert.equal((await callApp(app.baseUrl, 'POST', '/auth/logout', { token: old })).status, 204);

    const loginsBefore = p.logins();
    const users = await Promise.all(Array.from({ length: 5 }, () => p.api.me()));
    assert.equal(p.logins() - loginsBefore, 1, 're-logins');
    assert.ok(users.every((u) => u.id === user.id));
    const refused = p.exchanges.filter((e) => e.api === 'request' && e.status === 401);
    assert.equal(refused.length, 5, 'each call was refused once with the old token');
    assert.ok(refused.every((e) => e.authorization === `Bearer ${old}`));
    const fresh = storedToken(p);
    assert.notEqual(fresh, old);
    assert.equal((await callApp(app.baseUrl, 'GET', '/users/me', { token: fresh })).status, 200);
  });

  test('an account deleted from another device: the next call logs in once and gets the reactivated, empty account', async () => {
    const p = phone(app.baseUrl);
    await p.api.updateProfile({ nickname: 'Before deletion' });
    assert.equal((await callApp(app.baseUrl, 'DELETE', '/users/me', { token: storedToken(p) })).status, 204);
    const loginsBefore = p.logins();
    const me = await p.api.me();
    assert.equal(p.logins() - loginsBefore, 1);
    assert.equal(me.openId, p.wx.openId);
    assert.equal(me.nickname, null);
  });

  test('logout revokes the token on the service and forgets it; with no token it sends nothing', async () => {
    const p = phone(app.baseUrl);
    await p.api.me();
    const token = storedToken(p);
    await p.api.logout();
    assert.equal(p.stored(), '');
    const sent = p.requests('POST', '/auth/logout');
    assert.equal(sent.length, 1);
    assert.equal(sent[0].status, 204);
    assert.equal(sent[0].authorization, `Bearer ${token}`);
    assert.equal((await callApp(app.baseUrl, 'GET', '/users/me', { token })).status, 401);

    const before = p.exchanges.length;
    await p.api.logout();
    assert.equal(p.exchanges.length, before, 'nothing to revoke: no login, no request');
  });

  test('deleteAccount deletes on the service and forgets the token', async () => {
    const p = phone(app.baseUrl);
    await p.api.updateProfile({ nickname: 'To delete', city: 'Hangzhou' });
    const token = storedToken(p);
    await p.api.deleteAccount();
    assert.equal(p.stored(), '');
    assert.deepEqual(
      p.requests('DELETE', '/users/me').map((e) => e.status),
      [204],
    );
    assert.equal((await callApp(app.baseUrl, 'GET', '/users/me', { token })).status, 401);
    const row = (await app.db.query<{ deleted_at: Date | null; nickname: string | null }>('SELECT deleted_at, nickname FROM wechat_user WHERE open_id = $1', [p.wx.openId]))[0];
    assert.ok(row.deleted_at, 'deleted_at is set');
    assert.equal(row.nickname, null);
  });

  test('bindPhone redeems the getPhoneNumber code and the number is on the account', async () => {
    const p = phone(app.baseUrl);
    const code = await p.wx.sandboxPhoneCode('13800138000');
    const phoneNumber = await p.api.bindPhone(code);
    assert.deepEqual(phoneNumber, { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' });
    const me = await p.api.me();
    assert.equal(me.mobile, '13800138000');
    assert.equal(me.hasMobile, true, 'the page hides the (billed) phone button');
    assert.equal(p.logins(), 1);
  });

  test('request(): any route with the bearer; auth: false sends no token and logs in for nothing', async () => {
    const p = phone(app.baseUrl);
    assert.deepEqual(await p.api.request({ path: '/wechat/session' }), { valid: true });
    const health = await p.api.request<{ status: string }>({ path: '/health', auth: false });
    assert.equal(health.status, 'ok');
    assert.equal(p.requests('GET', '/health')[0].authorization, undefined);
    assert.equal(p.logins(), 1);
  });

  describe('uploadAvatar: the chooseAvatar temp file through wx.uploadFile', () => {
    test("a multipart POST with the bearer answers 202 avatarPending; the avatar is the user's once WeChat passes it", async () => {
      const p = phone(app.baseUrl);
      const pending = await p.api.uploadAvatar(await tempImage(tempDir));
      assert.equal(pending.avatarPending, true);
      assert.equal(pending.avatarUrl, null, 'not shown before the verdict');
      const uploads = p.exchanges.filter((e) => e.api === 'uploadFile');
      assert.deepEqual(
        uploads.map((e) => `${e.method} ${e.path} ${e.status}`),
        ['POST /users/me/avatar 202'],
      );
      assert.equal(uploads[0].authorization, `Bearer ${storedToken(p)}`);
      assert.equal(p.logins(), 1, 'the upload logged in first, once');

      const done = await eventually(async () => {
        const me = await p.api.me();
        return me.avatarPending ? undefined : me;
      });
      assert.ok(done.avatarUrl?.startsWith(`${app.baseUrl}/avatars/`), String(done.avatarUrl));
      const served = await fetch(done.avatarUrl!);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get('content-type'), 'image/jpeg');
    });

    test('a revoked token: one re-login, and the file is sent again', async () => {
      const p = phone(app.baseUrl);
      await p.api.me();
      assert.equal((await callApp(app.baseUrl, 'POST', '/auth/logout', { token: storedToken(p) })).status, 204);
      const user = await p.api.uploadAvatar(await tempImage(tempDir));
      assert.equal(user.avatarPending, true);
      assert.deepEqual(
        p.exchanges.filter((e) => e.api === 'uploadFile').map((e) => e.status),
        [401, 202],
      );
      assert.equal(p.logins(), 2);
    });

    test('INVALID_IMAGE (400) for a file that is not an image', async () => {
      const p = phone(app.baseUrl);
      const notAnImage = join(tempDir, 'tmp_notes.png');
      writeFileSync(notAnImage, 'this is text, not a picture');
      await assert.rejects(p.api.uploadAvatar(notAnImage), isApiError('INVALID_IMAGE', 400));
    });

    test('NETWORK_ERROR when the temp file is gone (wx.uploadFile fails)', async () => {
      const p = phone(app.baseUrl);
      await assert.rejects(p.api.uploadAvatar(join(tempDir, 'tmp_missing.png')), isApiError('NETWORK_ERROR', 0));
    });
  });

  describe('typed errors carry the service code', () => {
    test("CONTENT_RISKY (400) for a nickname WeChat's text check judges risky; nothing stored", async () => {
      const p = phone(app.baseUrl);
      await p.api.updateProfile({ nickname: 'Kept' });
      await assert.rejects(p.api.updateProfile({ nickname: 'so risky' }), (err) => isApiError('CONTENT_RISKY', 400)(err) && /20001/.test((err as Error).message));
      assert.equal((await p.api.me()).nickname, 'Kept');
    });

    test('VALIDATION_FAILED (400) for a bad profile field, naming it', async () => {
      const p = phone(app.baseUrl);
      await assert.rejects(p.api.updateProfile({ gender: 7 as 0 }), (err) => isApiError('VALIDATION_FAILED', 400)(err) && /gender/.test((err as Error).message));
    });

    test('WECHAT_RATE_LIMITED (429) from the login is not retried, and the next call logs in again', async () => {
      const p = phone(app.baseUrl);
      app.simulator.fail(JSCODE2SESSION_PATH, { errcode: 45011 }, 1);
      await assert.rejects(p.api.me(), isApiError('WECHAT_RATE_LIMITED', 429));
      assert.equal(p.logins(), 1);
      assert.equal(p.requests('GET', '/users/me').length, 0, 'no request without a token');
      assert.equal(p.stored(), '');
      const me = await p.api.me();
      assert.equal(me.openId, p.wx.openId);
      assert.equal(p.logins(), 2);
    });

    test('WECHAT_CODE_INVALID (401) is not taken for an expired token: one login, no retry', async () => {
      const p = phone(app.baseUrl);
      app.simulator.fail(JSCODE2SESSION_PATH, { errcode: 40029 }, 1);
      await assert.rejects(p.api.login(), isApiError('WECHAT_CODE_INVALID', 401));
      assert.equal(p.logins(), 1);
    });

    test('PHONE_CODE_INVALID (400) for a phone code WeChat refuses', async () => {
      const p = phone(app.baseUrl);
      await assert.rejects(p.api.bindPhone('not-a-code-the-sandbox-issued'), isApiError('PHONE_CODE_INVALID', 400));
    });

    test('NETWORK_ERROR (status 0) when no answer comes', async () => {
      const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
      const p = phone(closed, { sandboxUrl: app.baseUrl });
      await assert.rejects(p.api.me(), isApiError('NETWORK_ERROR', 0));
    });
  });

  describe('the platform object', () => {
    test('defaults to the global wx', async () => {
      const g = globalThis as { wx?: unknown };
      const wx = createSandboxWx({ sandboxUrl: app.baseUrl });
      g.wx = wx;
      let api: Client;
      try {
        api = createClient({ baseUrl: app.baseUrl });
      } finally {
        delete g.wx;
      }
      assert.equal((await api.me()).openId, wx.openId);
      assert.equal(wx.counts.login, 1);
    });

    test('is required where there is no global wx', () => {
      assert.throws(() => createClient({ baseUrl: app.baseUrl }), /platform/);
    });
  });
});

describe('a token that stays refused is not retried forever', () => {
  // A misconfigured cluster: logins land on instance A, every other call on instance B, whose JWT
  // secret differs, so B refuses every token A issues, however often the client logs in again.
  let a: SandboxApp;
  let b: SandboxApp;
  let proxy: Server;
  let proxyUrl: string;

  before(async () => {
    a = await startSandboxApp();
    b = await startSandboxApp({ JWT_SECRET: 'another-jwt-secret-that-is-long-enough-9876543210' });
    proxy = createServer(async (req, res) => {
      const target = /^\/(wechat\/login|sandbox\/)/.test(req.url ?? '') ? a.baseUrl : b.baseUrl;
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'authorization']) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name] as string;
      const upstream = await fetch(target + req.url, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await a?.close();
    await b?.close();
  });

  test('one re-login and one retry per call, then the 401 goes to the caller', async () => {
    const p = phone(proxyUrl);
    await assert.rejects(p.api.me(), isApiError('UNAUTHORIZED', 401));
    assert.equal(p.logins(), 2, 'the first login and one re-login');
    assert.deepEqual(
      p.requests('GET', '/users/me').map((e) => e.status),
      [401, 401],
    );

    // The next call still tries its stored token, renews it once, and stops again.
    await assert.rejects(p.api.me(), isApiError('UNAUTHORIZED', 401));
    assert.equal(p.logins(), 3);
    assert.equal(p.requests('GET', '/users/me').length, 4);
  });

  test('concurrent calls on a refused token still share one re-login', async () => {
    const p = phone(proxyUrl);
    await p.api.login();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => p.api.me()));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof ApiError && r.reason.code === 'UNAUTHORIZED'));
    assert.equal(p.logins(), 2, 'the explicit login and one shared re-login');
    assert.equal(p.requests('GET', '/users/me').length, 10, 'each call: one try, one retry');
  });
});
