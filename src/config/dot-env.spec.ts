import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { applyDotEnv, readDotEnv } from './dot-env';
import { ConfigError } from './configuration';

describe('.env', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxlogin-dotenv-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  test('NAME=value lines, comments, export, quotes and multi-line quoted values are read', () => {
    const vars = readDotEnv(file('ok.env', '# comment\nPORT=4216\n  export LOG_LEVEL=debug\nCORS_ORIGINS="https://a.example"\nMULTI="a\nnot a pair\nb"\r\nSINGLE=\'x\'\nEMPTY=\n'));
    assert.deepEqual(vars, { PORT: '4216', LOG_LEVEL: 'debug', CORS_ORIGINS: 'https://a.example', MULTI: 'a\nnot a pair\nb', SINGLE: 'x', EMPTY: '' });
  });

  test('a line that is not NAME=value is refused, naming it, instead of hiding the variable after it', () => {
    let caught: unknown;
    try {
      readDotEnv(file('typo.env', 'LOG_LEVEL debug\nDATABASE_URL=postgres://db/app\nPORT=1\n'));
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof ConfigError);
    assert.match(caught.message, /"LOG_LEVEL debug" is not a NAME=value line/);
    assert.throws(() => readDotEnv(file('last.env', 'PORT=1\ntypo at the end')), /"typo at the end" is not a NAME=value line/);
  });

  test('no file: undefined; a file that cannot be read (a directory): refused with its reason', () => {
    assert.equal(readDotEnv(join(dir, 'missing.env')), undefined);
    mkdirSync(join(dir, 'dir.env'));
    assert.throws(
      () => readDotEnv(join(dir, 'dir.env')),
      (err: unknown) => err instanceof ConfigError && /cannot be read/.test(err.message),
    );
  });

  test('variables already set in the environment win', () => {
    const env: NodeJS.ProcessEnv = { PORT: '8080' };
    applyDotEnv({ PORT: '4216', LOG_LEVEL: 'debug' }, env);
    assert.deepEqual(env, { PORT: '8080', LOG_LEVEL: 'debug' });
  });
});
