/**
 * Production hardening of the HTTP answers: `X-Content-Type-Options: nosniff` on every answer, a
 * content security policy on the docs page, CORS only for CORS_ORIGINS, and the docs off in
 * production unless DOCS_ENABLED=true. (test/swagger-ui.e2e-spec.ts checks in a real browser that
 * Swagger UI still works under the policy.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type HttpAnswer, type TestApp } from './support/test-app';

const assertNotFound = (answer: HttpAnswer) => {
  assert.equal(answer.status, 404, answer.text.slice(0, 200));
  assert.equal(answer.body?.code, 'NOT_FOUND');
};

describe('security headers and CORS with the defaults', () => {
  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp();
    token = (await app.login({ nickName: 'Headers' })).body.token;
  });
  after(async () => {
    await app?.close();
  });

  test('every answer carries X-Content-Type-Options: nosniff', async () => {
    const answers = [
      await app.request('GET', '/health'),
      await app.request('GET', '/users/me', { token }),
      await app.request('GET', '/users/me'),
      await app.request('GET', '/nope'),
      await app.request('PUT', '/users/me', { token }),
      await app.request('POST', '/wechat/login', { body: { code: 1 } }),
      await app.request('POST', '/wechat/login', { rawBody: 'x', headers: { 'content-type': 'text/plain' } }),
      await app.request('POST', '/wechat/login', { rawBody: '{', headers: { 'content-type': 'application/json' } }),
      await app.request('GET', '/docs'),
      await app.request('GET', '/docs-json'),
    ];
    for (const a of answers) assert.equal(a.headers.get('x-content-type-options'), 'nosniff', `${a.status} ${a.text.slice(0, 100)}`);
  });

  test("the docs page and its assets get helmet's full set of headers", async () => {
    const page = await app.request('GET', '/docs');
    const script = await app.request('GET', '/docs/swagger-ui-init.js');
    assert.equal(script.status, 200);
    for (const a of [page, script]) {
      assert.ok(a.headers.get('content-security-policy'), 'content-security-policy');
      assert.ok(a.headers.get('x-frame-options'), 'x-frame-options');
      assert.ok(a.headers.get('referrer-policy'), 'referrer-policy');
    }
  });

  test("the JSON routes do not get helmet's set", async () => {
    for (const a of [await app.request('GET', '/health'), await app.request('GET', '/users/me', { token })]) {
      assert.equal(a.status, 200);
      for (const name of ['content-security-policy', 'x-frame-options', 'referrer-policy']) assert.equal(a.headers.get(name), null, name);
    }
  });

  test('the docs page has a content security policy that allows only its own scripts', async () => {
    const page = await app.request('GET', '/docs');
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/, csp);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    // The page loads its scripts as files (the policy allows no inline script).
    assert.doesNotMatch(page.text, /<script>[^<]/);
  });

  test('no CORS headers at all without CORS_ORIGINS', async () => {
    const origin = 'https://evil.example';
    const get = await app.request('GET', '/health', { headers: { origin } });
    const preflight = await app.request('OPTIONS', '/wechat/login', { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    for (const a of [get, preflight]) {
      for (const name of a.headers.keys()) assert.ok(!name.startsWith('access-control-'), `${name} on ${a.status}`);
    }
  });
});

describe('CORS_ORIGINS and DOCS_ENABLED=false', () => {
  let app: TestApp;
  const admin = 'https://admin.example.com';
  const ops = 'http://localhost:5173';
  before(async () => {
    app = await startTestApp({ env: { CORS_ORIGINS: `${admin}, ${ops}`, DOCS_ENABLED: 'false' } });
  });
  after(async () => {
    await app?.close();
  });

  /** No `access-control-*` header at all. */
  const assertNoCors = (a: HttpAnswer) => {
    for (const name of a.headers.keys()) assert.ok(!name.startsWith('access-control-'), `${name} on ${a.status}`);
  };
  const assertJsonError = (a: HttpAnswer, status: number, code: string) => {
    assert.equal(a.status, status, a.text.slice(0, 200));
    assert.match(a.headers.get('content-type') ?? '', /^application\/json\b/);
    assert.deepEqual(a.body, { statusCode: status, code, message: a.body?.message });
    assert.equal(a.headers.get('x-content-type-options'), 'nosniff');
  };

  test('a listed origin is allowed, with a preflight for a JSON login', async () => {
    const get = await app.request('GET', '/health', { headers: { origin: admin } });
    assert.equal(get.headers.get('access-control-allow-origin'), admin);
    const preflight = await app.request('OPTIONS', '/wechat/login', { headers: { origin: ops, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    assert.ok(preflight.status === 204 || preflight.status === 200, `${preflight.status} ${preflight.text}`);
    assert.equal(preflight.headers.get('access-control-allow-origin'), ops);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /content-type/i);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null, 'bearer tokens, no cookies');
    assert.equal(preflight.headers.get('access-control-max-age'), '600');
  });

  test('another origin gets no allow-origin', async () => {
    const get = await app.request('GET', '/health', { headers: { origin: 'https://evil.example' } });
    assert.equal(get.status, 200);
    assertNoCors(get);
    const preflight = await app.request('OPTIONS', '/wechat/login', { headers: { origin: 'https://admin.example.com.evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  });

  test('an OPTIONS request that is not a preflight gets the JSON answer of the route table, as without CORS', async () => {
    for (const headers of [{}, { origin: admin }, { 'access-control-request-method': 'POST' }] as Record<string, string>[]) {
      const answer = await app.request('OPTIONS', '/wechat/login', { headers });
      assertJsonError(answer, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(answer.headers.get('allow'), 'POST');
      assert.equal(answer.headers.get('access-control-allow-methods'), null, JSON.stringify(headers));
    }
    assertJsonError(await app.request('OPTIONS', '/nope'), 404, 'NOT_FOUND');
  });

  test('a preflight from an origin not in the list gets no access-control header at all, and the JSON answer', async () => {
    for (const origin of ['https://evil.example', 'https://admin.example.com.evil.example', 'null']) {
      const answer = await app.request('OPTIONS', '/wechat/login', { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      assertNoCors(answer);
      assertJsonError(answer, 405, 'METHOD_NOT_ALLOWED');
    }
  });

  test('a listed origin still gets allow-origin on an actual answer, an error included', async () => {
    const me = await app.request('GET', '/users/me', { headers: { origin: admin } });
    assert.equal(me.status, 401);
    assert.equal(me.headers.get('access-control-allow-origin'), admin);
    const login = await app.request('POST', '/wechat/login', { body: { code: 1 }, headers: { origin: ops } });
    assert.equal(login.status, 400);
    assert.equal(login.headers.get('access-control-allow-origin'), ops);
  });

  test('a listed origin may read Retry-After (a 429) and ETag (an avatar) from script; other origins get no CORS header', async () => {
    const exposed = (a: HttpAnswer) => (a.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
    const login = await app.request('POST', '/wechat/login', { body: { code: 1 }, headers: { origin: ops } });
    assert.deepEqual(exposed(login).sort(), ['etag', 'retry-after']);
    const avatar = await app.request('GET', '/avatars/q7ZJxg3kA4V0c1mQ9yH2bw', { headers: { origin: admin } });
    assert.deepEqual(exposed(avatar).sort(), ['etag', 'retry-after']);
    assertNoCors(await app.request('POST', '/wechat/login', { body: { code: 1 }, headers: { origin: 'https://evil.example' } }));
  });

  test('/docs and /docs-json are unknown routes', async () => {
    assertNotFound(await app.request('GET', '/docs'));
    assertNotFound(await app.request('GET', '/docs-json'));
    assertNotFound(await app.request('GET', '/docs-yaml'));
  });
});

describe('docs in production', () => {
  const productionEnv = {
    NODE_ENV: 'production',
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_BASE_URL: 'https://api.example.com',
  };
  let off: TestApp;
  let on: TestApp;
  before(async () => {
    off = await startTestApp({ env: productionEnv });
    on = await startTestApp({ env: { ...productionEnv, DOCS_ENABLED: 'true' } });
  });
  after(async () => {
    await off?.close();
    await on?.close();
  });

  test('off by default', async () => {
    assertNotFound(await off.request('GET', '/docs'));
    assertNotFound(await off.request('GET', '/docs-json'));
  });

  test('on with DOCS_ENABLED=true', async () => {
    assert.equal((await on.request('GET', '/docs')).status, 200);
    const doc = await on.request('GET', '/docs-json');
    assert.equal(doc.status, 200);
    assert.match(doc.body.openapi, /^3\./);
  });
});
