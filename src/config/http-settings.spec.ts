import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, type Env, loadConfig } from './configuration';

/** The HTTP-edge settings of a development configuration. (Production's docs default: test/security-headers.) */
const http = (env: Env = {}) => loadConfig(env, '/srv/app').http;

function problems(env: Env): string[] {
  try {
    http(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('HTTP edge settings', () => {
  test('defaults', () => {
    assert.deepEqual(http(), { requestTimeoutMs: 30_000, loginRateLimit: 300, trustProxy: false, docsEnabled: true, corsOrigins: [] });
  });

  test('values', () => {
    const s = http({ REQUEST_TIMEOUT_MS: '1000', LOGIN_RATE_LIMIT: '0', TRUST_PROXY: 'true', DOCS_ENABLED: 'false', CORS_ORIGINS: 'https://a.example.com/, http://localhost:5173' });
    assert.deepEqual(s, { requestTimeoutMs: 1000, loginRateLimit: 0, trustProxy: true, docsEnabled: false, corsOrigins: ['https://a.example.com', 'http://localhost:5173'] });
    assert.equal(http({ TRUST_PROXY: '1' }).trustProxy, 1);
    assert.equal(http({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy, '10.0.0.0/8, 127.0.0.1');
    assert.equal(http({ TRUST_PROXY: 'loopback' }).trustProxy, 'loopback');
  });

  test('bad values are named, all at once', () => {
    const found = problems({ REQUEST_TIMEOUT_MS: 'soon', LOGIN_RATE_LIMIT: '-1', TRUST_PROXY: 'yes please', DOCS_ENABLED: 'maybe', CORS_ORIGINS: '*, https://ok.example.com/path' });
    for (const name of ['REQUEST_TIMEOUT_MS', 'LOGIN_RATE_LIMIT', 'TRUST_PROXY', 'DOCS_ENABLED'])
      assert.ok(
        found.some((p) => p.startsWith(name)),
        `${name}: ${found.join(' | ')}`,
      );
    assert.equal(found.filter((p) => p.startsWith('CORS_ORIGINS')).length, 2, found.join(' | '));
  });

  test('TRUST_PROXY addresses are checked at start, not at the first request', () => {
    assert.equal(http({ TRUST_PROXY: '10.0.0.0/8, ::1, fd00::/8, 192.168.0.0/255.255.0.0, linklocal' }).trustProxy, '10.0.0.0/8, ::1, fd00::/8, 192.168.0.0/255.255.0.0, linklocal');
    for (const bad of ['abc', '10.0.0.0/99', '::1/129', '10.0.0.1/8/8', '999.1.1.1', '10.0.0.0/', '123']) {
      const found = problems({ TRUST_PROXY: bad });
      assert.equal(found.length, 1, `${bad}: ${found.join(' | ')}`);
      assert.match(found[0], /^TRUST_PROXY must be/);
    }
  });
});
