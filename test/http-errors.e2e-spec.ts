import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { JSCODE2SESSION_PATH } from '../src/sandbox/wechat-simulator';
import { rawHttp } from './support/raw-http';
import { startTestApp, type TestApp, readAnswer } from './support/test-app';

/**
 * The API's promises ("All bodies are JSON", 64 KiB limit, unknown fields rejected) and its error table (every error
 * is `{ statusCode, code, message }` JSON, never HTML or a stack trace, never a 500 for bad input).
 *
 * Decision on a UTF-8 byte order mark in front of a JSON body: RFC 8259 §8.1 lets a parser ignore
 * it rather than treat it as an error, and some HTTP clients add one, so a BOM-prefixed body is
 * ACCEPTED like the same body without it (asserted below: a BOM-prefixed valid login logs in).
 */

interface Answer {
  status: number;
  contentType: string;
  text: string;
  body: any;
}

/** Every answer of this file, for the final "no stack trace anywhere" sweep. */
const answers: { label: string; answer: Answer }[] = [];

const STACK_FRAME = /\n\s*at\s|\bat\s+\S+\s+\([^)]*:\d+:\d+\)|\bat\s+[^\s()]+:\d+:\d+/;

describe('HTTP errors: malformed requests, media types, limits, unknown routes', () => {
  let app: TestApp;

  /** Sends exact bytes (string or Buffer) with exactly the given headers. */
  async function send(
    method: string,
    path: string,
    opts: { body?: string | Buffer | FormData | URLSearchParams; headers?: Record<string, string>; token?: string; label?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const { status, headers: responseHeaders, text, body } = await readAnswer(await fetch(app.baseUrl + path, { method, headers, body: opts.body as RequestInit['body'] }));
    const answer = { status, contentType: responseHeaders.get('content-type') ?? '', text, body };
    answers.push({ label: opts.label ?? `${method} ${path}`, answer });
    return answer;
  }

  const sendJson = (path: string, body: string | Buffer, opts: { method?: string; token?: string; label?: string } = {}) =>
    send(opts.method ?? 'POST', path, { body, headers: { 'content-type': 'application/json' }, token: opts.token, label: opts.label });

  /** The contract's error shape, and nothing that looks like a stack trace or an HTML page. */
  function assertError(answer: Answer, status: number, code: string, label: string, field?: string): void {
    const where = `${label}: ${answer.status} ${answer.text.slice(0, 300)}`;
    assert.equal(answer.status, status, where);
    assert.match(answer.contentType, /^application\/json\b/, where);
    assert.ok(answer.body && typeof answer.body === 'object' && !Array.isArray(answer.body), `${where}: body is not a JSON object`);
    assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'message', 'statusCode'], where);
    assert.equal(answer.body.statusCode, status, where);
    assert.equal(answer.body.code, code, where);
    assert.equal(typeof answer.body.message, 'string', where);
    assert.ok(answer.body.message.length > 0, where);
    assertNoLeak(answer, label);
    if (field) assert.match(answer.body.message, new RegExp(`\\b${field}\\b`), `${where}: message must name "${field}"`);
  }

  function assertNoLeak(answer: Answer, label: string): void {
    assert.doesNotMatch(answer.text, /stack/i, `${label}: ${answer.text}`);
    assert.doesNotMatch(answer.text, STACK_FRAME, `${label}: ${answer.text}`);
    assert.doesNotMatch(answer.text, /<html|<!doctype|<body/i, `${label}: ${answer.text}`);
    assert.doesNotMatch(answer.text, /node_modules|\.build\/|\.js:\d+/, `${label}: ${answer.text}`);
  }

  let token: string;
  before(async () => {
    app = await startTestApp();
    const login = await app.login({ nickName: 'Errors' });
    assert.equal(login.status, 200, login.text);
    token = login.body.token;
  });
  after(async () => {
    await app?.close();
  });

  describe('POST /wechat/login with a malformed body → 400 VALIDATION_FAILED (or DECRYPT_FAILED)', () => {
    const deep = (depth: number, open: string, close: string, inner: string) => open.repeat(depth) + inner + close.repeat(depth);
    // name → exact body; `field`: the message must name it.
    // Deep nesting is refused either while parsing (no field to name) or by validation; never a 500
    // (class-transformer recurses once per level and overflows the stack at a few thousand).
    const cases: { name: string; body: string | Buffer; field?: string; code?: 'DECRYPT_FAILED' }[] = [
      { name: 'lone {', body: '{' },
      { name: '{"code":}', body: '{"code":}' },
      { name: 'trailing comma', body: '{"code":"abc",}' },
      { name: 'single quotes', body: "{'code':'abc'}" },
      { name: 'NaN value', body: '{"code":NaN}' },
      { name: 'lone ]', body: ']' },
      { name: 'unquoted key', body: '{code:"abc"}' },
      { name: 'trailing garbage', body: '{"code":"abc"}xyz' },
      { name: 'two documents', body: '{"code":"abc"}{"code":"def"}' },
      { name: 'unterminated string', body: '{"code":"abc' },
      { name: 'comment', body: '{"code":"abc" /* hi */}' },
      { name: 'empty body with content-type json', body: '' },
      { name: 'whitespace-only body', body: '   \n' },
      { name: 'JSON null', body: 'null' },
      { name: 'JSON array', body: '[]' },
      { name: 'JSON array holding a valid request', body: '[{"code":"abc"}]' },
      { name: 'JSON string', body: '"abc"' },
      { name: 'JSON number', body: '42' },
      { name: 'JSON true', body: 'true' },
      { name: 'prototype poisoning (__proto__)', body: '{"code":"abc","__proto__":{"polluted":1}}' },
      { name: 'prototype poisoning (constructor.prototype)', body: '{"code":"abc","constructor":{"prototype":{"polluted":1}}}' },
      { name: 'unknown field', body: '{"code":"abc","foo":1}', field: 'foo' },
      { name: 'no code at all', body: '{}', field: 'code' },
      { name: 'code is a number', body: '{"code":12345}', field: 'code' },
      { name: 'code is an object', body: '{"code":{"a":"b"}}', field: 'code' },
      { name: 'code is an array', body: '{"code":["abc"]}', field: 'code' },
      { name: 'code is null', body: '{"code":null}', field: 'code' },
      { name: 'code is true', body: '{"code":true}', field: 'code' },
      { name: 'code is empty', body: '{"code":""}', field: 'code' },
      { name: 'code of 129 chars', body: JSON.stringify({ code: 'a'.repeat(129) }), field: 'code' },
      { name: 'deeply nested object as code', body: `{"code":${deep(3000, '{"a":', '}', '1')}}` },
      { name: 'deeply nested arrays as code', body: `{"code":${deep(20000, '[', ']', '1')}}` },
      { name: 'deeply nested unknown field', body: `{"code":"abc","x":${deep(3000, '{"a":', '}', '1')}}` },
      { name: 'rawData without signature', body: JSON.stringify({ code: 'abc', rawData: '{}' }), field: 'signature' },
      { name: 'signature without rawData', body: JSON.stringify({ code: 'abc', signature: 'a'.repeat(40) }), field: 'rawData' },
      { name: 'signature not 40 hex', body: JSON.stringify({ code: 'abc', rawData: '{}', signature: 'z'.repeat(40) }), field: 'signature' },
      { name: 'rawData not JSON', body: JSON.stringify({ code: 'abc', rawData: 'not json', signature: 'a'.repeat(40) }), field: 'rawData' },
      { name: 'encryptedData without iv', body: JSON.stringify({ code: 'abc', encryptedData: 'AAAA' }), field: 'iv' },
      { name: 'encryptedData is a number', body: JSON.stringify({ code: 'abc', encryptedData: 1234, iv: Buffer.alloc(16).toString('base64') }), field: 'encryptedData' },
      { name: 'iv is an object', body: JSON.stringify({ code: 'abc', encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: { a: 1 } }), field: 'iv' },
      // Strings that no key could decrypt: DECRYPT_FAILED, still before WeChat is called.
      { name: 'iv of 15 bytes', body: JSON.stringify({ code: 'abc', encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: Buffer.alloc(15).toString('base64') }), field: 'iv', code: 'DECRYPT_FAILED' },
      { name: 'encryptedData not base64', body: JSON.stringify({ code: 'abc', encryptedData: '%%%%', iv: Buffer.alloc(16).toString('base64') }), field: 'encryptedData', code: 'DECRYPT_FAILED' },
      // Invalid UTF-8 is not JSON text (RFC 8259 §8.1): it must not be "repaired" into U+FFFD and sent on to WeChat.
      { name: 'invalid UTF-8 in the code', body: Buffer.concat([Buffer.from('{"code":"abc'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]) },
      { name: 'invalid UTF-8 (overlong encoding)', body: Buffer.concat([Buffer.from('{"code":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]) },
      { name: 'UTF-16 encoded body', body: Buffer.from('\ufeff{"code":"abc"}', 'utf16le') },
    ];

    let jscodeCallsBefore = 0;
    before(() => {
      jscodeCallsBefore = app.wechat.countRequests(JSCODE2SESSION_PATH);
    });

    for (const c of cases) {
      test(c.name, async () => {
        const answer = await sendJson('/wechat/login', c.body, { label: c.name });
        assertError(answer, 400, c.code ?? 'VALIDATION_FAILED', c.name, c.field);
      });
    }

    test(`at least 25 malformed cases (${cases.length}), none reached WeChat or wrote a row`, async () => {
      assert.ok(cases.length >= 25);
      assert.equal(app.wechat.countRequests(JSCODE2SESSION_PATH), jscodeCallsBefore, 'a malformed request was sent on to jscode2session');
      const rows = await app.db.query<{ n: string }>('SELECT count(*)::text AS n FROM wechat_user');
      assert.equal(rows[0].n, '1', 'only the user of before() exists');
    });

    test('prototype poisoning did not reach Object.prototype (the app runs in this process)', () => {
      assert.equal(({} as any).polluted, undefined);
      assert.equal((Object.prototype as any).polluted, undefined);
    });

    test('control: a code of exactly 128 chars passes validation and is refused by WeChat (401, not 400)', async () => {
      const answer = await sendJson('/wechat/login', JSON.stringify({ code: 'a'.repeat(128) }), { label: '128-char code' });
      assertError(answer, 401, 'WECHAT_CODE_INVALID', '128-char code');
    });

    test('a UTF-8 BOM in front of a valid body is accepted (RFC 8259 §8.1: parsers may ignore it)', async () => {
      const issued = app.wechat.issueLoginCode({ nickName: 'Bom' });
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ code: issued.code }))]);
      const answer = await sendJson('/wechat/login', body, { label: 'BOM' });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.user.openId, issued.openId);
    });

    test('a BOM in front of a malformed body is still 400', async () => {
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"code":')]);
      assertError(await sendJson('/wechat/login', body, { label: 'BOM + bad JSON' }), 400, 'VALIDATION_FAILED', 'BOM + bad JSON');
    });
  });

  describe('PATCH /users/me (valid token) with a malformed body → 400 VALIDATION_FAILED', () => {
    const cases: { name: string; body: string | Buffer; field?: string; code?: 'DECRYPT_FAILED' }[] = [
      { name: 'lone {', body: '{' },
      { name: 'single quotes', body: "{'nickname':'x'}" },
      { name: 'JSON array', body: '[{"nickname":"x"}]' },
      { name: 'JSON string', body: '"x"' },
      { name: 'JSON number', body: '7' },
      { name: 'prototype poisoning', body: '{"nickname":"x","__proto__":{"polluted":1}}' },
      { name: 'constructor poisoning', body: '{"nickname":"x","constructor":{"prototype":{"polluted":1}}}' },
      { name: 'unknown field', body: '{"nickname":"x","isAdmin":true}', field: 'isAdmin' },
      { name: 'attempt to set tokenVersion', body: '{"tokenVersion":0}', field: 'tokenVersion' },
      { name: 'attempt to set openId', body: '{"openId":"oSomeoneElse"}', field: 'openId' },
      { name: 'nickname of wrong type', body: '{"nickname":{"a":1}}', field: 'nickname' },
      { name: 'invalid UTF-8', body: Buffer.concat([Buffer.from('{"nickname":"a'), Buffer.from([0xff]), Buffer.from('"}')]) },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const answer = await sendJson('/users/me', c.body, { method: 'PATCH', token, label: `PATCH ${c.name}` });
        assertError(answer, 400, 'VALIDATION_FAILED', `PATCH ${c.name}`, c.field);
      });
    }

    test('the profile was not changed by any of them', async () => {
      const me = await app.request('GET', '/users/me', { token });
      assert.equal(me.status, 200);
      assert.equal(me.body.nickname, 'Errors');
      assert.equal(({} as any).polluted, undefined);
    });
  });

  describe('415 UNSUPPORTED_MEDIA_TYPE for bodies that are not application/json', () => {
    test('text/plain', async () => {
      const answer = await send('POST', '/wechat/login', { body: '{"code":"abc"}', headers: { 'content-type': 'text/plain' } });
      assertError(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', 'text/plain');
    });
    test('text/plain; charset=utf-8', async () => {
      const answer = await send('POST', '/wechat/login', { body: '{"code":"abc"}', headers: { 'content-type': 'text/plain; charset=utf-8' } });
      assertError(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', 'text/plain charset');
    });
    test('application/x-www-form-urlencoded', async () => {
      const answer = await send('POST', '/wechat/login', { body: new URLSearchParams({ code: 'abc' }) });
      assertError(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', 'urlencoded');
    });
    test('multipart/form-data', async () => {
      const form = new FormData();
      form.set('code', 'abc');
      const answer = await send('POST', '/wechat/login', { body: form });
      assertError(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', 'multipart');
    });
    test('application/xml', async () => {
      const answer = await send('POST', '/wechat/login', { body: '<code>abc</code>', headers: { 'content-type': 'application/xml' } });
      assertError(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', 'xml');
    });
    test('a body with no content-type at all', async () => {
      // fetch adds text/plain to a string body; a Buffer body gets no content-type.
      const answer = await send('POST', '/wechat/login', { body: Buffer.from('{"code":"abc"}') });
      assertError(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', 'no content-type');
    });
    test('PATCH /users/me with text/plain (valid token)', async () => {
      const answer = await send('PATCH', '/users/me', { body: '{"nickname":"x"}', headers: { 'content-type': 'text/plain' }, token });
      assertError(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', 'PATCH text/plain');
    });
    test('JSON in another charset, or compressed: 415, and no login code is spent', async () => {
      const issued = app.wechat.issueLoginCode();
      const json = JSON.stringify({ code: issued.code });
      const cases: [label: string, body: Buffer, headers: Record<string, string>][] = [
        ['charset=utf-16, UTF-16 bytes', Buffer.from(json, 'utf16le'), { 'content-type': 'application/json; charset=utf-16' }],
        ['charset=utf-16, UTF-8 bytes', Buffer.from(json), { 'content-type': 'application/json; charset=UTF-16' }],
        ['charset="latin1"', Buffer.from(json), { 'content-type': 'application/json;charset="latin1"' }],
        ['content-encoding gzip', gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
        ['content-encoding br, uncompressed bytes', Buffer.from(json), { 'content-type': 'application/json', 'content-encoding': 'br' }],
      ];
      for (const [label, body, headers] of cases) assertError(await send('POST', '/wechat/login', { body, headers }), 415, 'UNSUPPORTED_MEDIA_TYPE', label);
      const answer = await send('POST', '/wechat/login', { body: json, headers: { 'content-type': 'application/json; charset="UTF-8"', 'content-encoding': 'identity' } });
      assert.equal(answer.status, 200, `the same code, UTF-8 and uncompressed: ${answer.text}`);
    });
    test('control: application/json; charset=utf-8 is accepted', async () => {
      const issued = app.wechat.issueLoginCode();
      const answer = await send('POST', '/wechat/login', { body: JSON.stringify({ code: issued.code }), headers: { 'content-type': 'application/json; charset=utf-8' } });
      assert.equal(answer.status, 200, answer.text);
    });
  });

  describe('413 PAYLOAD_TOO_LARGE over 64 KiB', () => {
    const LIMIT = 64 * 1024;
    /** `{"code":"aaaa…"}` of exactly `size` bytes. */
    const bodyOf = (size: number) => `{"code":"${'a'.repeat(size - 11)}"}`;

    test('a JSON body of 64 KiB + 1 byte → 413', async () => {
      const body = bodyOf(LIMIT + 1);
      assert.equal(Buffer.byteLength(body), LIMIT + 1);
      assertError(await sendJson('/wechat/login', body, { label: '64KiB+1' }), 413, 'PAYLOAD_TOO_LARGE', '64KiB+1');
    });
    test('a JSON body of 1 MiB → 413', async () => {
      assertError(await sendJson('/wechat/login', bodyOf(1024 * 1024), { label: '1MiB' }), 413, 'PAYLOAD_TOO_LARGE', '1MiB');
    });
    test('a 200 KiB body sent chunked (no content-length) → 413', async () => {
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) controller.enqueue(Buffer.from('{"code":"'));
          if (sent >= 200 * 1024) {
            controller.enqueue(Buffer.from('"}'));
            controller.close();
            return;
          }
          controller.enqueue(chunk);
          sent += chunk.length;
        },
      });
      let answer: Answer;
      try {
        const res = await fetch(app.baseUrl + '/wechat/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
        const text = await res.text();
        answer = { status: res.status, contentType: res.headers.get('content-type') ?? '', text, body: JSON.parse(text) };
      } catch (err) {
        // The server may answer and close before the upload ends; that still must not be a 2xx/5xx.
        assert.fail(`chunked upload failed without an answer: ${(err as Error).message}`);
      }
      answers.push({ label: 'chunked', answer });
      assertError(answer, 413, 'PAYLOAD_TOO_LARGE', 'chunked 200KiB');
    });
    test('a PATCH /users/me body over 64 KiB → 413', async () => {
      const body = JSON.stringify({ nickname: 'x'.repeat(LIMIT) });
      assertError(await sendJson('/users/me', body, { method: 'PATCH', token, label: 'PATCH big' }), 413, 'PAYLOAD_TOO_LARGE', 'PATCH big');
    });
    test('a body of exactly 64 KiB is not 413 (it fails validation instead)', async () => {
      const body = bodyOf(LIMIT);
      assert.equal(Buffer.byteLength(body), LIMIT);
      assertError(await sendJson('/wechat/login', body, { label: '64KiB' }), 400, 'VALIDATION_FAILED', '64KiB', 'code');
    });
    test('a valid login body padded to just under 64 KiB with whitespace is accepted', async () => {
      const issued = app.wechat.issueLoginCode();
      const json = JSON.stringify({ code: issued.code });
      const body = json.slice(0, -1) + ' '.repeat(LIMIT - 100 - json.length) + '}';
      assert.ok(Buffer.byteLength(body) < LIMIT && Buffer.byteLength(body) > LIMIT - 200);
      const answer = await sendJson('/wechat/login', body, { label: 'padded' });
      assert.equal(answer.status, 200, answer.text);
    });
  });

  describe('404 NOT_FOUND and 401 UNAUTHORIZED', () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/nope'],
      ['GET', '/users/other'],
      ['GET', '/users/123'],
      ['DELETE', '/users/other'],
      ['GET', '/../../etc/passwd'],
      ['GET', '/users/me/../../nope'],
    ] as const) {
      test(`${method} ${path} → 404`, async () => {
        const answer = await send(method, path);
        assertError(answer, 404, 'NOT_FOUND', `${method} ${path}`);
      });
    }
    // A known path with another method: 405 naming the methods it has (RFC 9110 §15.5.6).
    for (const [method, path, allow] of [
      ['PUT', '/users/me', 'DELETE, GET, HEAD, PATCH'],
      ['GET', '/wechat/login', 'POST'],
      ['DELETE', '/wechat/login?x=1', 'POST'],
      ['POST', '/health', 'GET, HEAD'],
      // The router decodes a percent-encoded path before matching it: so does the 405.
      ['PUT', '/heal%74h', 'GET, HEAD'],
      ['DELETE', '/wechat/log%69n', 'POST'],
      ['PUT', '/users/m%65', 'DELETE, GET, HEAD, PATCH'],
    ] as const) {
      test(`${method} ${path} → 405 METHOD_NOT_ALLOWED with Allow: ${allow}`, async () => {
        const res = await fetch(app.baseUrl + path, { method });
        const answer = { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text(), body: undefined as any };
        answer.body = JSON.parse(answer.text);
        answers.push({ label: `${method} ${path}`, answer });
        assertError(answer, 405, 'METHOD_NOT_ALLOWED', `${method} ${path}`);
        assert.equal(res.headers.get('allow'), allow);
      });
    }
    test('control: GET /heal%74h is GET /health (the router decodes the path)', async () => {
      assert.equal((await send('GET', '/heal%74h')).status, 200);
    });
    // The docs assets are one wildcard GET route: a file it does not have is not found, not 405
    // "GET is not allowed here; use GET, HEAD".
    for (const path of ['/docs/nope', '/docs/nope.js', '/docs/%2e%2e%2fpackage.json', '/docs/..%2F..%2Fpackage.json']) {
      test(`GET ${path} (a docs asset that does not exist) → 404 NOT_FOUND`, async () => {
        const raw = await rawHttp(app.baseUrl, [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
        const answer = { status: raw.status, contentType: raw.headers['content-type'] ?? '', text: raw.text, body: raw.body };
        answers.push({ label: `GET ${path}`, answer });
        assertError(answer, 404, 'NOT_FOUND', `GET ${path}`);
        assert.equal(raw.headers.allow, undefined);
      });
    }
    test('control: an existing docs asset is served', async () => {
      assert.equal((await send('GET', '/docs/swagger-ui-init.js')).status, 200);
    });
    test('POST /nope with a JSON body and a token → 404', async () => {
      assertError(await sendJson('/nope', '{"a":1}', { token, label: 'POST /nope json' }), 404, 'NOT_FOUND', 'POST /nope json');
    });
    test('GET /users/me without a token → 401', async () => {
      assertError(await send('GET', '/users/me'), 401, 'UNAUTHORIZED', 'GET /users/me');
    });
    test('PATCH /users/me with a valid body but no token → 401', async () => {
      assertError(await sendJson('/users/me', '{"nickname":"x"}', { method: 'PATCH', label: 'PATCH no token' }), 401, 'UNAUTHORIZED', 'PATCH no token');
    });
    test('POST /auth/logout without a token → 401', async () => {
      assertError(await send('POST', '/auth/logout'), 401, 'UNAUTHORIZED', 'logout no token');
    });
    test('DELETE /users/me without a token → 401', async () => {
      assertError(await send('DELETE', '/users/me'), 401, 'UNAUTHORIZED', 'delete no token');
    });
  });

  describe('afterwards', () => {
    test('no answer of this file carried a stack trace, HTML or the word "stack"', () => {
      assert.ok(answers.length >= 60, `only ${answers.length} answers recorded`);
      for (const { label, answer } of answers) {
        assertNoLeak(answer, label);
        assert.ok(answer.status < 500, `${label}: ${answer.status} ${answer.text}`);
      }
    });

    test('the process still answers GET /health 200 and a normal login works', async () => {
      const health = await app.request('GET', '/health');
      assert.equal(health.status, 200, health.text);
      assert.equal(health.body.status, 'ok');
      const login = await app.login({ nickName: 'After' });
      assert.equal(login.status, 200, login.text);
      const me = await app.request('GET', '/users/me', { token: login.body.token });
      assert.equal(me.status, 200);
      assert.equal(me.body.nickname, 'After');
    });
  });
});
