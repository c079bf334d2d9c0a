/**
 * Errors raised below the application keep the `{ statusCode, code, message }` shape: Node's HTTP
 * parser (431, bad chunked encoding, garbage), Node's own answers (no Host, an unsupported Expect),
 * the request timer (REQUEST_TIMEOUT_MS → 408, on fresh and kept-alive connections), and bodies
 * too costly to validate (more than 256 keys; at most 10 problems listed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JSCODE2SESSION_PATH } from '../src/sandbox/wechat-simulator';
import { rawHttp, type RawAnswer } from './support/raw-http';
import { startTestApp, type TestApp } from './support/test-app';

function assertShape(answer: RawAnswer, status: number, code: string): void {
  const where = `${answer.status} ${answer.text.slice(0, 300)}`;
  assert.equal(answer.status, status, where);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json\b/, where);
  assert.deepEqual(answer.body, { statusCode: status, code, message: answer.body?.message }, where);
  assert.equal(typeof answer.body.message, 'string');
  assert.equal(answer.headers['x-content-type-options'], 'nosniff', where);
}

describe('errors of the HTTP parser', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });

  test("headers over Node's limit → 431 HEADERS_TOO_LARGE, JSON, connection closed", async () => {
    const answer = await rawHttp(app.baseUrl, [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`]);
    assertShape(answer, 431, 'HEADERS_TOO_LARGE');
  });

  test('a body with bad chunked encoding → 400 VALIDATION_FAILED, connection closed', async () => {
    const answer = await rawHttp(app.baseUrl, ['POST /wechat/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', 'zz\r\n{"code":"abc"}\r\n0\r\n\r\n']);
    assertShape(answer, 400, 'VALIDATION_FAILED');
    assert.match(answer.body.message, /chunked/);
  });

  test('a request line that is not HTTP → 400 VALIDATION_FAILED', async () => {
    assertShape(await rawHttp(app.baseUrl, ['HELLO THERE\r\n\r\n']), 400, 'VALIDATION_FAILED');
  });

  test('both Content-Length and Transfer-Encoding (request smuggling) → 400 VALIDATION_FAILED', async () => {
    const answer = await rawHttp(app.baseUrl, ['POST /wechat/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']);
    assertShape(answer, 400, 'VALIDATION_FAILED');
  });

  test("a URL that does not decode → 400 VALIDATION_FAILED (Fastify's router refusal, in our shape)", async () => {
    for (const path of ['/%zz', '/users/%E0%A4%A']) {
      assertShape(await rawHttp(app.baseUrl, [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]), 400, 'VALIDATION_FAILED');
    }
  });

  test('an HTTP/1.1 request without Host → 400 VALIDATION_FAILED naming it, JSON, connection closed', async () => {
    const answer = await rawHttp(app.baseUrl, ['GET /health HTTP/1.1\r\n\r\n']);
    assertShape(answer, 400, 'VALIDATION_FAILED');
    assert.match(answer.body.message, /\bHost\b/);
    assert.equal(answer.headers.connection, 'close');
    // HTTP/1.0 has no Host requirement.
    assert.equal((await rawHttp(app.baseUrl, ['GET /health HTTP/1.0\r\n\r\n'])).status, 200);
  });

  test('two Host headers → 400 naming them, JSON, connection closed; one Host (any case) is fine', async () => {
    for (const hosts of ['Host: x\r\nHost: y', 'Host: x\r\nhOST: x']) {
      const answer = await rawHttp(app.baseUrl, [`GET /health HTTP/1.1\r\n${hosts}\r\n\r\n`]);
      assertShape(answer, 400, 'VALIDATION_FAILED');
      assert.match(answer.body.message, /more than one Host/);
      assert.equal(answer.headers.connection, 'close');
    }
    assert.equal((await rawHttp(app.baseUrl, ['GET /health HTTP/1.1\r\nhOsT: x\r\nX-Host: y\r\nConnection: close\r\n\r\n'])).status, 200);
  });

  test('CONNECT → 405 METHOD_NOT_ALLOWED, JSON in the usual shape, connection closed', async () => {
    const answer = await rawHttp(app.baseUrl, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n']);
    assertShape(answer, 405, 'METHOD_NOT_ALLOWED');
    assert.match(answer.body.message, /CONNECT/);
    assert.equal(answer.headers.connection, 'close');
  });

  test('an Expect other than 100-continue → 417, JSON in the usual shape', async () => {
    const answer = await rawHttp(app.baseUrl, ['GET /health HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n']);
    assertShape(answer, 417, 'VALIDATION_FAILED');
    assert.match(answer.body.message, /\bExpect\b/);
  });

  test('the server still answers afterwards', async () => {
    assert.equal((await app.request('GET', '/health')).status, 200);
  });
});

describe('REQUEST_TIMEOUT_MS', () => {
  const TIMEOUT_MS = 1000;
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) } });
  });
  after(async () => {
    await app?.close();
  });

  test('a body dripped a byte at a time → 408 REQUEST_TIMEOUT within seconds, and the socket is closed', async () => {
    const body = JSON.stringify({ code: 'dripped-code' });
    const head = `POST /wechat/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    // Drip one byte every 200 ms: the whole body would take several times the timeout.
    const answer = await rawHttp(app.baseUrl, [head, ...body.split('')], { gapMs: 200, giveUpMs: 15_000 });
    assertShape(answer, 408, 'REQUEST_TIMEOUT');
    assert.ok(answer.closedAfterMs >= TIMEOUT_MS - 50, `closed after ${answer.closedAfterMs} ms, before the timeout`);
    // Node checks every connectionsCheckingInterval (30 s by default); ours makes it take effect quickly.
    assert.ok(answer.closedAfterMs < TIMEOUT_MS + 4000, `closed only after ${answer.closedAfterMs} ms`);
    assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), 0, 'the partial request reached no handler');
    const errors = app.logLines.filter((l) => JSON.parse(l).level >= 50);
    assert.deepEqual(errors, [], 'a timed-out request is not an application error');
  });

  test('a connection that sent nothing yet is not a request: an idle keep-alive is not answered 408', async () => {
    const answer = await rawHttp(app.baseUrl, ['GET /health HTTP/1.1\r\nHost: x\r\n\r\n'], { giveUpMs: TIMEOUT_MS + 1500 });
    assert.equal(answer.status, 200);
    assert.doesNotMatch(answer.text, /REQUEST_TIMEOUT/);
  });

  test('headers dripped slowly → 408 as well', async () => {
    const head = 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(30);
    const answer = await rawHttp(app.baseUrl, head.split(''), { gapMs: 100, giveUpMs: 15_000 });
    assertShape(answer, 408, 'REQUEST_TIMEOUT');
    assert.ok(answer.closedAfterMs < TIMEOUT_MS + 4000, `closed only after ${answer.closedAfterMs} ms`);
  });

  // A kept-alive connection: the first request is answered in full, then the next one is slow.
  // Between two answers nothing is half-written, so the 408 is sent there too.
  const first = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';

  test('after a first answer on the same connection, headers dripped slowly → 408 JSON, then closed', async () => {
    const head = 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(30);
    const answer = await rawHttp(app.baseUrl, [first, ...head.split('')], { gapMs: 100, giveUpMs: 15_000 });
    assert.equal(answer.status, 200, answer.text.slice(0, 300));
    assert.ok(answer.next, `one answer only: ${answer.text.slice(0, 400)}`);
    assertShape(answer.next, 408, 'REQUEST_TIMEOUT');
    assert.ok(answer.closedAfterMs < TIMEOUT_MS + 4000, `closed only after ${answer.closedAfterMs} ms`);
  });

  test('after a first answer on the same connection, a body dripped slowly → 408 JSON, then closed', async () => {
    const head = 'POST /wechat/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';
    const answer = await rawHttp(app.baseUrl, [first, head, ...'{"code":"dripped-again"'.split('')], { gapMs: 200, giveUpMs: 15_000 });
    assert.equal(answer.status, 200, answer.text.slice(0, 300));
    assert.ok(answer.next, `one answer only: ${answer.text.slice(0, 400)}`);
    assertShape(answer.next, 408, 'REQUEST_TIMEOUT');
    assert.ok(answer.closedAfterMs < 200 + TIMEOUT_MS + 4000, `closed only after ${answer.closedAfterMs} ms`);
    assert.equal(answer.next.next, undefined, 'nothing after the 408');
  });

  test('a 408 never takes the place of an answer still being prepared on the connection', async () => {
    // The first request (a login WeChat answers after 1.3 s) is complete; the next one's headers
    // then time out while the login's answer is pending: a 408 written now would be read as the
    // login's answer. The connection is closed without it.
    app.wechat.fail(JSCODE2SESSION_PATH, { kind: 'delay', ms: TIMEOUT_MS + 300 }, 1);
    const issued = app.wechat.issueLoginCode({ nickName: 'Pending' });
    const body = JSON.stringify({ code: issued.code });
    const login = `POST /wechat/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const head = 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(30);
    const answer = await rawHttp(app.baseUrl, [login, ...head.split('')], { gapMs: 100, giveUpMs: 15_000 });
    assert.notEqual(answer.status, 408, answer.text.slice(0, 300));
    // Either nothing (closed first) or the login's own answer (if it came before the timeout).
    assert.ok(answer.status === 0 || answer.status === 200, `${answer.status} ${answer.text.slice(0, 300)}`);
  });

  test('a request sent at normal speed is answered, and a slow answer is not cut', async () => {
    // The timeout is about receiving the request: the login below waits on WeChat for longer than it.
    // (WeChat answers after 1.3 s; the app's upstream timeout in tests is 1.5 s.)
    app.wechat.fail(JSCODE2SESSION_PATH, { kind: 'delay', ms: TIMEOUT_MS + 300 }, 1);
    const login = await app.login({ nickName: 'OnTime' });
    assert.equal(login.status, 200, login.text);
  });
});

describe('bodies too costly to validate', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });

  const post = (body: unknown) => app.request('POST', '/wechat/login', { body });
  /** `n` keys named `<prefix><i in base 36>`, each 0: 8000 of them fit in 64 KiB. */
  const keys = (n: number, prefix = '') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i.toString(36)}`, 0]));

  test('8000 unknown keys (under 64 KiB) → 400 naming the limit, with a small answer', async () => {
    const body = { code: 'abc', ...keys(8000) };
    assert.ok(JSON.stringify(body).length < 64 * 1024);
    const answer = await post(body);
    assert.equal(answer.status, 400, answer.text.slice(0, 300));
    assert.equal(answer.body.code, 'VALIDATION_FAILED');
    assert.match(answer.body.message, /more than 256 keys/);
    assert.ok(answer.text.length < 300, `answer of ${answer.text.length} bytes`);
  });

  test('300 keys spread over nested objects and arrays → 400 before validation', async () => {
    const body = { code: 'abc', a: { b: keys(150), c: [keys(100), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] }, d: keys(30) };
    const answer = await post(body);
    assert.equal(answer.status, 400);
    assert.match(answer.body.message, /more than 256 keys/);
  });

  test('20 unknown fields → the message lists at most 10 problems and says how many more', async () => {
    const answer = await post({ code: 'abc', ...keys(20, 'unknown') });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.code, 'VALIDATION_FAILED');
    const listed = answer.body.message.match(/property unknown\w+ should not exist/g) ?? [];
    assert.equal(listed.length, 10, answer.body.message);
    assert.match(answer.body.message, /and 10 more/);
  });

  test('250 keys in all are validated (not refused by the key limit)', async () => {
    const answer = await post({ code: 'abc', extra: keys(248) });
    assert.equal(answer.status, 400);
    assert.doesNotMatch(answer.body.message, /keys in all/);
    assert.match(answer.body.message, /extra/);
  });

  test('20 requests of 8000 keys in parallel leave /health answering', async () => {
    const body = JSON.stringify({ code: 'abc', ...keys(8000) });
    const flood = Array.from({ length: 20 }, () => app.request('POST', '/wechat/login', { rawBody: body, headers: { 'content-type': 'application/json' } }));
    const health = await app.request('GET', '/health');
    const answers = await Promise.all(flood);
    assert.equal(health.status, 200);
    for (const a of answers) assert.equal(a.status, 400);
  });
});

describe('shutting down', () => {
  test('a request arriving while the server drains gets 503 SERVICE_UNAVAILABLE in the usual shape; the one in flight completes', async () => {
    const app = await startTestApp();
    let closed: Promise<void> | undefined;
    try {
      // A login held 1 s by WeChat keeps the connection busy; the server starts closing meanwhile.
      app.wechat.fail(JSCODE2SESSION_PATH, { kind: 'delay', ms: 1000 }, 1);
      const issued = app.wechat.issueLoginCode({ nickName: 'Draining' });
      const body = JSON.stringify({ code: issued.code });
      const login = `POST /wechat/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      setTimeout(() => (closed = app.close()), 200);
      const answer = await rawHttp(app.baseUrl, [login, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'], { gapMs: 500 });
      assert.equal(answer.status, 200, answer.text.slice(0, 300));
      const second = answer.text.slice(answer.text.indexOf('HTTP/1.1', 1));
      assert.match(second, /^HTTP\/1\.1 503 /, answer.text.slice(0, 600));
      const json = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4));
      assert.deepEqual(Object.keys(json).sort(), ['code', 'message', 'statusCode']);
      assert.equal(json.code, 'SERVICE_UNAVAILABLE');
    } finally {
      await (closed ?? app.close());
    }
  });
});
