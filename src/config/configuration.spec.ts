import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseEnv } from 'node:util';
import { keepDevelopmentSecrets } from './development-secrets';
import { ConfigError, type Env, loadConfig, parseDuration, SANDBOX_APPID } from './configuration';

const SECRET32 = 'k7Qx9-Vb2mZp4Lr8Ty6Wn3Hs5Jd1Fc0G';
const PROD_OK: Env = {
  NODE_ENV: 'production',
  WECHAT_APPID: 'wxprod123',
  WECHAT_SECRET: 'prod-secret',
  JWT_SECRET: SECRET32,
  DATABASE_URL: 'postgres://u:p@db:5432/app',
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  PUBLIC_BASE_URL: 'https://api.example.com',
};

/** Runs loadConfig expecting a ConfigError; returns its message and problems. */
function configError(env: Env): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env, '/srv/app');
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${caught === undefined ? 'a config' : String(caught)}`);
  assert.equal(caught.name, 'ConfigError');
  assert.ok(caught.problems.length > 0);
  return caught;
}

const dev = (env: Env = {}) => loadConfig(env, '/srv/app');

describe('loadConfig defaults', () => {
  test('an empty environment gives the documented defaults (sandbox, embedded database, memory cache)', () => {
    const c = dev({});
    assert.equal(c.app.port, 3000);
    assert.equal(c.app.host, '0.0.0.0');
    assert.equal(c.app.production, false);
    assert.equal(c.app.nodeEnv, 'development');
    assert.equal(c.app.logLevel, 'info');
    assert.equal(c.app.dataDir, '/srv/app/.data');
    assert.equal(c.wechat.sandbox, true);
    assert.equal(c.wechat.apps[0].appId, SANDBOX_APPID);
    assert.ok(c.wechat.apps[0].secret.length > 0);
    assert.equal(c.wechat.apiBaseUrl, 'https://api.weixin.qq.com');
    assert.equal(c.wechat.timeoutMs, 5000);
    assert.equal(c.jwt.expiresInSeconds, 604800);
    assert.equal(c.database.url, undefined);
    assert.equal(c.cache.redisUrl, undefined);
  });

  test('blank values count as unset', () => {
    const c = dev({ PORT: '', HOST: '  ', DATABASE_URL: ' ', REDIS_URL: '', WECHAT_APPID: ' ', WECHAT_SECRET: '', JWT_EXPIRES_IN: '' });
    assert.equal(c.app.port, 3000);
    assert.equal(c.app.host, '0.0.0.0');
    assert.equal(c.database.url, undefined);
    assert.equal(c.cache.redisUrl, undefined);
    assert.equal(c.wechat.sandbox, true);
    assert.equal(c.jwt.expiresInSeconds, 604800);
  });

  test('configured values are taken', () => {
    const c = dev({
      PORT: '8080',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'DEBUG',
      DATABASE_URL: 'postgresql://u:p@localhost:5432/db',
      REDIS_URL: 'redis://localhost:6379',
      WECHAT_APPID: 'wxabc',
      WECHAT_SECRET: 'sec',
      WECHAT_TIMEOUT_MS: '1500',
      DATA_DIR: '/var/lib/wx',
      JWT_SECRET: SECRET32,
    });
    assert.equal(c.app.port, 8080);
    assert.equal(c.app.host, '127.0.0.1');
    assert.equal(c.app.logLevel, 'debug');
    assert.equal(c.database.url, 'postgresql://u:p@localhost:5432/db');
    assert.equal(c.cache.redisUrl, 'redis://localhost:6379');
    assert.equal(c.wechat.sandbox, false);
    assert.equal(c.wechat.apps[0].appId, 'wxabc');
    assert.equal(c.wechat.apps[0].secret, 'sec');
    assert.equal(c.wechat.timeoutMs, 1500);
    assert.equal(c.app.dataDir, '/var/lib/wx');
    assert.equal(c.jwt.secret, SECRET32);
    assert.equal(c.jwt.generated, false);
  });

  test('.env.example copied to .env behaves as no configuration at all: the sandbox, with its built-in fake WeChat', () => {
    const example = parseEnv(readFileSync(join(process.cwd(), '.env.example'), 'utf8')) as Env;
    const c = dev(example);
    assert.equal(c.wechat.sandbox, true);
    assert.equal(c.wechat.apiBaseUrlSet, false);
    // Everything but the secrets generated afresh by each load.
    const settled = (config: ReturnType<typeof dev>) => ({ ...config, jwt: { ...config.jwt, secret: '' }, dataProtection: undefined });
    assert.deepEqual(settled(c), settled(dev({})));
  });

  test('in the sandbox, a WECHAT_API_BASE_URL naming WeChat itself does not replace the built-in fake; another fake does', () => {
    for (const url of ['https://api.weixin.qq.com', 'https://sh.api.weixin.qq.com/']) assert.equal(dev({ WECHAT_API_BASE_URL: url }).wechat.apiBaseUrlSet, false, url);
    assert.equal(dev({ WECHAT_API_BASE_URL: 'http://127.0.0.1:9999' }).wechat.apiBaseUrlSet, true);
    assert.equal(dev({ WECHAT_APPID: 'wxabc', WECHAT_SECRET: 'sec', WECHAT_API_BASE_URL: 'https://api.weixin.qq.com' }).wechat.apiBaseUrlSet, true);
  });

  test('WECHAT_API_BASE_URL: trailing slashes are stripped', () => {
    assert.equal(dev({ WECHAT_API_BASE_URL: 'http://127.0.0.1:9999/' }).wechat.apiBaseUrl, 'http://127.0.0.1:9999');
    assert.equal(dev({ WECHAT_API_BASE_URL: 'https://proxy.example.com/wx//' }).wechat.apiBaseUrl, 'https://proxy.example.com/wx');
  });
});

describe('loadConfig in production', () => {
  test('a complete production environment loads, never in sandbox', () => {
    const c = loadConfig(PROD_OK);
    assert.equal(c.app.production, true);
    assert.equal(c.wechat.sandbox, false);
    assert.equal(c.wechat.apps[0].appId, 'wxprod123');
    assert.equal(c.jwt.secret, SECRET32);
    assert.equal(c.jwt.generated, false);
  });

  test('with nothing set it names every missing variable in one error', () => {
    const err = configError({ NODE_ENV: 'production' });
    for (const name of ['WECHAT_APPID', 'WECHAT_SECRET', 'JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'DATABASE_URL']) assert.match(err.message, new RegExp(name));
  });

  test('each missing variable alone is refused and named', () => {
    for (const name of ['WECHAT_APPID', 'WECHAT_SECRET', 'JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'DATABASE_URL', 'PUBLIC_BASE_URL']) {
      const err = configError({ ...PROD_OK, [name]: undefined });
      assert.match(err.message, new RegExp(name), `missing ${name}`);
      // The way out through WECHAT_APPS is offered only where it helps.
      assert.equal(err.message.includes('WECHAT_APPS instead'), name.startsWith('WECHAT_'), `missing ${name}: ${err.message}`);
    }
  });

  test('a 31-character JWT_SECRET is refused; 32 is accepted', () => {
    const err = configError({ ...PROD_OK, JWT_SECRET: SECRET32.slice(1) });
    assert.match(err.message, /JWT_SECRET/);
    assert.match(err.message, /32/);
    assert.equal(loadConfig({ ...PROD_OK, JWT_SECRET: SECRET32 }).jwt.secret, SECRET32);
  });

  test('a JWT_SECRET padded with spaces to 32, or of fewer than 8 different characters, is refused', () => {
    assert.equal(SECRET32.length, 32);
    for (const weak of ['a' + ' '.repeat(31), ` ${SECRET32.slice(2)} `, 'y'.repeat(32), '12'.repeat(20), 'abcdefg'.repeat(6)]) {
      assert.match(configError({ ...PROD_OK, JWT_SECRET: weak }).message, /JWT_SECRET/, JSON.stringify(weak));
    }
    assert.equal(loadConfig({ ...PROD_OK, JWT_SECRET: 'abcdefgh'.repeat(4) }).jwt.secret, 'abcdefgh'.repeat(4));
  });

  test('never sandbox and never a generated secret', () => {
    const err = configError({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@db/app' });
    assert.match(err.message, /WECHAT_APPID/);
    assert.match(err.message, /JWT_SECRET/);
  });
});

describe('loadConfig validation', () => {
  test('only one of WECHAT_APPID / WECHAT_SECRET is an error', () => {
    assert.match(configError({ WECHAT_APPID: 'wxabc' }).message, /WECHAT_APPID and WECHAT_SECRET/);
    assert.match(configError({ WECHAT_SECRET: 'sec' }).message, /WECHAT_APPID and WECHAT_SECRET/);
  });

  test('JWT_EXPIRES_IN: durations and plain seconds', () => {
    assert.equal(dev({ JWT_EXPIRES_IN: '2h' }).jwt.expiresInSeconds, 7200);
    assert.equal(dev({ JWT_EXPIRES_IN: '3600' }).jwt.expiresInSeconds, 3600);
    assert.equal(dev({ JWT_EXPIRES_IN: '30m' }).jwt.expiresInSeconds, 1800);
    assert.equal(dev({ JWT_EXPIRES_IN: '7d' }).jwt.expiresInSeconds, 604800);
  });

  test('JWT_EXPIRES_IN that is not a duration is an error', () => {
    for (const bad of ['soon', '0', '-5', '1.5h', '2w', 'h']) {
      assert.match(configError({ JWT_EXPIRES_IN: bad }).message, /JWT_EXPIRES_IN/, bad);
    }
  });

  test('bad PORT, LOG_LEVEL and DATABASE_URL are reported together', () => {
    const err = configError({ PORT: 'eighty', LOG_LEVEL: 'verbose', DATABASE_URL: 'mysql://u:p@localhost/db' });
    assert.match(err.message, /PORT/);
    assert.match(err.message, /LOG_LEVEL/);
    assert.match(err.message, /DATABASE_URL/);
    assert.ok(err.problems.length >= 3, err.message);
  });

  test('PORT out of range or fractional is an error', () => {
    for (const bad of ['65536', '-1', '80.5', '1e9']) assert.match(configError({ PORT: bad }).message, /PORT/, bad);
    assert.equal(dev({ PORT: '0' }).app.port, 0);
  });

  test('URLs with a wrong scheme or that are not URLs are errors', () => {
    assert.match(configError({ DATABASE_URL: 'not a url' }).message, /DATABASE_URL/);
    assert.match(configError({ REDIS_URL: 'http://localhost:6379' }).message, /REDIS_URL/);
    assert.match(configError({ WECHAT_API_BASE_URL: 'ftp://example.com' }).message, /WECHAT_API_BASE_URL/);
    assert.equal(dev({ REDIS_URL: 'rediss://cache:6380' }).cache.redisUrl, 'rediss://cache:6380');
  });

  test('a short JWT_SECRET is refused outside production too', () => {
    assert.match(configError({ JWT_SECRET: 'short' }).message, /JWT_SECRET/);
  });
});

describe('development JWT secret', () => {
  test('outside production an unset JWT_SECRET gets a random secret for this process, marked generated; no file is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-pure-'));
    try {
      const a = loadConfig({ DATA_DIR: dir }, '/srv/app');
      const b = loadConfig({ DATA_DIR: dir }, '/srv/app');
      assert.equal(a.jwt.generated, true);
      assert.ok(a.jwt.secret.length >= 32);
      assert.notEqual(a.jwt.secret, b.jwt.secret);
      assert.deepEqual(readdirSync(dir), [], 'loading the configuration wrote nothing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('keepDevelopmentSecrets keeps the generated JWT secret and data key under the data folder (0600), once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-secrets-'));
    try {
      const first = keepDevelopmentSecrets(loadConfig({ DATA_DIR: dir }));
      const second = keepDevelopmentSecrets(loadConfig({ DATA_DIR: dir }));
      assert.equal(second.jwt.secret, first.jwt.secret);
      assert.deepEqual(second.dataProtection.current.key, first.dataProtection.current.key);
      assert.equal(readFileSync(join(dir, 'dev-jwt-secret'), 'utf8').trim(), first.jwt.secret);
      for (const file of ['dev-jwt-secret', 'dev-data-encryption-key']) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('configured secrets are used as given and nothing is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-secrets-'));
    try {
      const c = keepDevelopmentSecrets(loadConfig({ JWT_SECRET: SECRET32, DATA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), DATA_DIR: dir }, '/srv/app'));
      assert.equal(c.jwt.secret, SECRET32);
      assert.equal(c.jwt.generated, false);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseDuration', () => {
  test('units and plain seconds', () => {
    assert.equal(parseDuration('45'), 45);
    assert.equal(parseDuration('45s'), 45);
    assert.equal(parseDuration('30m'), 1800);
    assert.equal(parseDuration('2h'), 7200);
    assert.equal(parseDuration('7d'), 604800);
    assert.equal(parseDuration('2H'), 7200);
    assert.equal(parseDuration(' 10 m '), 600);
  });

  test('anything else is undefined', () => {
    for (const bad of ['', 'soon', '0', '0h', '-1', '1.5h', '2w', 'h', '1h30m', '1e3']) assert.equal(parseDuration(bad), undefined, bad);
  });

  test('at most a year (a typo must not mint tokens that never expire)', () => {
    assert.equal(parseDuration('365d'), 365 * 86400);
    for (const long of ['366d', '8761h', '99999999999999999999d', '0000000000000000000000001', '31536001']) assert.equal(parseDuration(long), undefined, long);
  });
});

describe('loadConfig: the sandbox fails closed', () => {
  test('NODE_ENV must be exactly development, test or production', () => {
    for (const value of ['staging', 'Production', 'prod', ' production', 'dev']) {
      const err = configError({ NODE_ENV: value });
      assert.match(err.message, /NODE_ENV must be one of development, test, production/, value);
      assert.ok(err.message.includes(`"${value}"`), `names the value ${value}`);
    }
    for (const value of ['development', 'test']) assert.equal(dev({ NODE_ENV: value }).app.nodeEnv, value);
  });

  test('no credentials plus a DATABASE_URL is refused, naming both ways out', () => {
    const err = configError({ DATABASE_URL: 'postgres://u:p@db/app' });
    assert.match(err.message, /WECHAT_APPID\/WECHAT_SECRET/);
    assert.match(err.message, /WECHAT_SANDBOX=true/);
    assert.equal(configError({ NODE_ENV: 'test', DATABASE_URL: 'postgres://u:p@db/app' }).message, err.message);
  });

  test('WECHAT_SANDBOX=true runs the sandbox against a DATABASE_URL on purpose', () => {
    const c = dev({ NODE_ENV: 'test', DATABASE_URL: 'postgres://u:p@db/app', WECHAT_SANDBOX: 'true' });
    assert.equal(c.wechat.sandbox, true);
    assert.equal(c.wechat.apps[0].appId, SANDBOX_APPID);
  });

  test('WECHAT_SANDBOX=true is refused with credentials and in production', () => {
    assert.match(configError({ WECHAT_SANDBOX: 'true', WECHAT_APPID: 'wxabc', WECHAT_SECRET: 'sec' }).message, /WECHAT_SANDBOX/);
    const prod = configError({ ...PROD_OK, WECHAT_SANDBOX: 'true' });
    assert.match(prod.message, /WECHAT_SANDBOX=true is refused in production/);
    assert.match(configError({ WECHAT_SANDBOX: 'yes' }).message, /WECHAT_SANDBOX must be true or false/);
  });

  test('WECHAT_SANDBOX=false without credentials and without a database keeps the zero-configuration sandbox off only with credentials', () => {
    // The zero-configuration case (no DATABASE_URL) is the sandbox; "false" alone does not make credentials appear.
    assert.equal(dev({ WECHAT_SANDBOX: 'false' }).wechat.sandbox, true);
    assert.match(configError({ WECHAT_SANDBOX: 'false', DATABASE_URL: 'postgres://u:p@db/app' }).message, /WECHAT_SANDBOX=true/);
  });
});

describe('loadConfig: numbers are plain decimals', () => {
  test('hex, exponent, signs and fractions are refused', () => {
    for (const value of ['0x1F90', '8e3', '+80', '-1', '80.0', '8080 ']) {
      assert.match(configError({ PORT: value }).message, /PORT must be an integer/, value);
    }
    assert.equal(dev({ PORT: '8080' }).app.port, 8080);
    assert.equal(dev({ DATABASE_STATEMENT_TIMEOUT_MS: '250' }).database.statementTimeoutMs, 250);
    assert.equal(dev({}).database.statementTimeoutMs, 5000);
  });
});
