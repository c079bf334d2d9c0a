import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CHECK_SESSION_PATH, JSCODE2SESSION_PATH, STABLE_TOKEN_PATH } from '../src/sandbox/wechat-simulator';
import { startTestApp, TEST_JWT_SECRET, TEST_SECRET, type HttpAnswer, type TestApp } from './support/test-app';

/**
 * The login promise (the session_key never appears in a log line) and the logging promise of the
 * service: one JSON line per request (method, url, status, duration), and no credential, token,
 * session key, login code or encrypted user data in any line, at the most verbose level (debug).
 */
describe('logging: request lines, and no secret in any line', () => {
  let app: TestApp;
  /** What must never be logged, with a label for the failure message. */
  const secrets = new Map<string, string>();
  /** Every request of the flow: its x-request-id and what the log line must say. */
  const requests: { id: string; method: string; url: string; status: number }[] = [];
  let lines: Record<string, any>[] = [];

  const keep = (label: string, value: string | undefined) => {
    assert.ok(value && value.length >= 8, `${label}: nothing to look for (${value})`);
    secrets.set(value, label);
  };

  async function call(method: string, url: string, opts: { body?: unknown; token?: string } = {}): Promise<HttpAnswer> {
    const id = randomUUID();
    const answer = await app.request(method, url, { ...opts, headers: { 'x-request-id': id } });
    requests.push({ id, method, url, status: answer.status });
    return answer;
  }

  /** A wx.login + wx.getUserInfo of the fake, remembering everything secret about it. */
  function issue(input: Parameters<TestApp['wechat']['issueLoginCode']>[0], label: string) {
    const issued = app.wechat.issueLoginCode(input);
    keep(`${label} js_code`, issued.code);
    keep(`${label} encryptedData`, issued.encryptedData);
    // A logger that truncates long values would still leak their start.
    keep(`${label} encryptedData (first 40 chars)`, issued.encryptedData.slice(0, 40));
    return issued;
  }

  function keepSessionKey(openId: string, label: string) {
    const sessionKey = app.wechat.currentSessionKey(openId);
    keep(`${label} session_key`, sessionKey);
    keep(`${label} session_key (URL-encoded)`, encodeURIComponent(sessionKey!));
    keep(`${label} session_key (hex)`, Buffer.from(sessionKey!, 'base64').toString('hex'));
  }

  function keepToken(token: string, label: string) {
    keep(`${label} JWT`, token);
    keep(`${label} JWT signature`, token.split('.')[2]);
  }

  before(async () => {
    app = await startTestApp();
    keep('WECHAT_SECRET', TEST_SECRET);
    keep('JWT_SECRET', TEST_JWT_SECRET);

    // 1. Login with rawData + encryptedData.
    const first = issue({ nickName: 'Logger', unionId: 'uLogger-union', city: 'Suzhou' }, 'login 1');
    const login = await call('POST', '/wechat/login', {
      body: { code: first.code, rawData: first.rawData, signature: first.signature, encryptedData: first.encryptedData, iv: first.iv },
    });
    assert.equal(login.status, 200, login.text);
    keepSessionKey(first.openId, 'login 1');
    const token: string = login.body.token;
    keepToken(token, 'login 1');

    // 2. Guarded reads and writes.
    assert.equal((await call('GET', '/users/me', { token })).status, 200);
    assert.equal((await call('PATCH', '/users/me', { token, body: { nickname: 'Logged', city: 'Wuxi' } })).status, 200);
    const session = await call('GET', '/wechat/session', { token });
    assert.equal(session.status, 200, session.text);
    assert.deepEqual(session.body, { valid: true });
    const checks = app.wechat.requests.filter((r) => r.path === CHECK_SESSION_PATH);
    assert.ok(checks.length > 0, 'GET /wechat/session did not reach checksession');
    for (const r of checks) {
      keep('checksession access_token', r.query.access_token);
      keep('checksession signature (HMAC of the session_key)', r.query.signature);
    }

    // 3. A second login of the same user (a new session_key) and a failed one with a bad signature.
    const second = issue({ openId: first.openId, nickName: 'Logger' }, 'login 2');
    const again = await call('POST', '/wechat/login', {
      body: { code: second.code, rawData: second.rawData, signature: second.signature, encryptedData: second.encryptedData, iv: second.iv },
    });
    assert.equal(again.status, 200, again.text);
    keepSessionKey(first.openId, 'login 2');
    keepToken(again.body.token, 'login 2');

    const bad = issue({ openId: first.openId }, 'bad login');
    const badSignature = bad.signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const failed = await call('POST', '/wechat/login', {
      body: { code: bad.code, rawData: bad.rawData, signature: badSignature, encryptedData: bad.encryptedData, iv: bad.iv },
    });
    assert.equal(failed.status, 401, failed.text);
    assert.equal(failed.body.code, 'SIGNATURE_MISMATCH');
    keepSessionKey(first.openId, 'bad login');

    // A login code WeChat refuses, and a malformed body carrying secrets-looking fields.
    const refused = await call('POST', '/wechat/login', { body: { code: 'refusedCodeValue0123456789abcdef' } });
    assert.equal(refused.status, 401, refused.text);
    keep('refused js_code', 'refusedCodeValue0123456789abcdef');
    const invalid = await call('POST', '/wechat/login', { body: { code: 'invalidBodyCode0123456789abcdef', session_key: 'c2Vzc2lvbktleUluQm9keTEyMw==' } });
    assert.equal(invalid.status, 400, invalid.text);
    keep('js_code of a rejected body', 'invalidBodyCode0123456789abcdef');
    keep('session_key sent in a body', 'c2Vzc2lvbktleUluQm9keTEyMw==');

    // A forged token on a guarded route.
    const forged = `${token.split('.')[0]}.${token.split('.')[1]}.forgedSignatureValue0123456789abcdefABCDEF`;
    assert.equal((await call('GET', '/users/me', { token: forged })).status, 401);
    keep('forged token', forged);

    // 4. Logout.
    assert.equal((await call('POST', '/auth/logout', { token: again.body.token })).status, 204);
    assert.equal((await call('GET', '/health')).status, 200);

    // The access token the app got from stable_token (from WeChat's answer: not in the recorded requests).
    assert.ok(app.wechat.countRequests(STABLE_TOKEN_PATH) > 0);

    // pino writes asynchronously only when told to; give any pending line a moment anyway.
    await new Promise((r) => setTimeout(r, 50));
    lines = app.logLines.map((line, i) => {
      try {
        return JSON.parse(line);
      } catch {
        assert.fail(`log line ${i} is not JSON: ${line.slice(0, 300)}`);
      }
    });
  });
  after(async () => {
    await app?.close();
  });

  test('every log line is one valid JSON object with level, time and msg', () => {
    assert.ok(app.logLines.length > requests.length, `only ${app.logLines.length} lines`);
    for (const [i, raw] of app.logLines.entries()) {
      assert.equal(raw.trimEnd().includes('\n'), false, `line ${i} spans several lines`);
      const line = lines[i];
      assert.equal(typeof line, 'object', `line ${i}`);
      assert.ok(line !== null && !Array.isArray(line), `line ${i}`);
      assert.equal(typeof line.level, 'number', `line ${i}: ${raw}`);
      assert.ok('time' in line, `line ${i}: ${raw}`);
      assert.equal(typeof line.msg, 'string', `line ${i}: ${raw}`);
    }
  });

  test('the log really is at debug level and records the upstream calls (by path)', () => {
    assert.ok(
      lines.some((l) => l.level === 20),
      'no debug line at all',
    );
    const upstream = app.logLines.filter((l) => l.includes(JSCODE2SESSION_PATH));
    assert.ok(upstream.length >= 3, `expected lines about ${JSCODE2SESSION_PATH}, got ${upstream.length}`);
  });

  interface RequestLine {
    method: string;
    url: string;
    status: number;
    responseTime: unknown;
    line: Record<string, any>;
  }
  /**
   * The lines that report a finished request. The field names are the logger's business, so the
   * usual spellings are accepted: pino-http's `req.method/req.url/res.statusCode/responseTime`, or
   * flat `method`, `url|path`, `status|statusCode`, `responseTime|ms|durationMs`.
   */
  const requestLines = (): RequestLine[] =>
    lines.flatMap((l) => {
      const method = l.req?.method ?? l.method;
      const url = l.req?.url ?? l.url ?? l.path;
      const status = l.res?.statusCode ?? l.statusCode ?? l.status;
      if (typeof method !== 'string' || typeof url !== 'string' || typeof status !== 'number') return [];
      return [{ method, url, status, responseTime: l.responseTime ?? l.ms ?? l.durationMs ?? l.duration, line: l }];
    });

  test('one request line per request: method, url, status and responseTime', () => {
    assert.ok(requests.length >= 10);
    // Matched by (method, url, status) counts, so the test does not depend on how request ids are made.
    const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
    const expected = new Map<string, number>();
    for (const r of requests) count(expected, `${r.method} ${r.url} ${r.status}`);
    const seen = new Map<string, number>();
    for (const l of requestLines()) count(seen, `${l.method} ${l.url} ${l.status}`);
    for (const [key, n] of expected) assert.equal(seen.get(key) ?? 0, n, `request lines for "${key}"`);
    for (const { responseTime, line } of requestLines()) {
      assert.equal(typeof responseTime, 'number', `no response time: ${JSON.stringify(line)}`);
      assert.ok((responseTime as number) >= 0 && (responseTime as number) < 30_000, JSON.stringify(line));
      // A load balancer's successful health checks are debug lines; every other request line is info or above.
      const polled = line.route === '/health' && line.status === 200;
      if (polled) assert.equal(line.level, 20, `a successful health check is a debug line: ${JSON.stringify(line)}`);
      else assert.ok(line.level >= 30, `request lines are info or above: ${JSON.stringify(line)}`);
    }
  });

  test('request lines carry no headers and no bodies', () => {
    const found = requestLines();
    assert.ok(found.length >= requests.length, `only ${found.length} request lines for ${requests.length} requests`);
    const forbidden = /^(headers|body|query|authorization|cookie|rawBody)$/i;
    const walk = (value: unknown, path: string): string[] =>
      value && typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => [...(forbidden.test(k) ? [`${path}.${k}`] : []), ...walk(v, `${path}.${k}`)]) : [];
    for (const { line } of found) assert.deepEqual(walk(line, ''), [], JSON.stringify(line));
  });

  test('no line contains a secret: app secret, JWT key, session keys, tokens, login codes, encryptedData, access token', () => {
    assert.ok(secrets.size >= 25, `only ${secrets.size} secrets collected`);
    const leaks: string[] = [];
    for (const [i, raw] of app.logLines.entries()) {
      for (const [value, label] of secrets) {
        if (raw.includes(value)) leaks.push(`line ${i} contains ${label}: ${raw.slice(0, 400)}`);
      }
    }
    assert.deepEqual(leaks, []);
  });

  test('no line has a session_key, secret, js_code or authorization field with a real value', () => {
    const offending: string[] = [];
    const walk = (value: unknown, path: string, i: number) => {
      if (value && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          if (/^(session_?key|secret|app_?secret|js_?code|authorization|access_?token|encrypted_?data)$/i.test(k) && v !== '[redacted]') {
            offending.push(`line ${i}: ${path}.${k} = ${JSON.stringify(v)}`);
          }
          walk(v, `${path}.${k}`, i);
        }
      }
    };
    lines.forEach((l, i) => walk(l, '', i));
    assert.deepEqual(offending, []);
  });
});

test('at LOG_LEVEL=info a successful health check writes no line, other requests do', async () => {
  const app = await startTestApp({ env: { LOG_LEVEL: 'info' } });
  try {
    assert.equal((await app.request('GET', '/health')).status, 200);
    assert.equal((await app.request('GET', '/users/me')).status, 401);
    assert.equal((await app.request('GET', '/health?probe=1')).status, 200);
    const requestLines = app.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request completed');
    assert.deepEqual(
      requestLines.map((l) => [l.level, l.path, l.status]),
      [[30, '/users/me', 401]],
    );
  } finally {
    await app.close();
  }
});

test('a second app in the same process writes its lines, Nest’s included, to its own destination', async () => {
  const countUpstream = (app: TestApp) => app.logLines.filter((l) => l.includes(JSCODE2SESSION_PATH)).length;
  const first = await startTestApp();
  let second: TestApp | undefined;
  try {
    assert.equal((await first.login()).status, 200);
    second = await startTestApp();
    assert.equal((await second.login()).status, 200);
    // The upstream line is written by a provider through Nest's logger (not by the request hook),
    // synchronously, before the login answers.
    assert.equal(countUpstream(first), 1);
    assert.equal(countUpstream(second), 1, 'the second app’s upstream line is not in its own log');
  } finally {
    await second?.close();
    await first.close();
  }
});
