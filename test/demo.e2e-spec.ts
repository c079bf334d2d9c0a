/**
 * `npm run demo` as a newcomer runs it: against a server in sandbox mode every step passes and it
 * exits 0; against a server that is not a sandbox, or no server at all, it exits non-zero and says why.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freeLoopbackPort } from '../src/common/system';
import { clientDist, repoRoot, startSandboxApp, type SandboxApp } from './support/client-support';
import { startTestApp, type TestApp } from './support/test-app';

function runDemo(apiUrl: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [join(repoRoot(), 'scripts', 'demo.js')], {
    env: { PATH: process.env.PATH ?? '', API_URL: apiUrl, CLIENT_DIST: clientDist() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('npm run demo', () => {
  let sandbox: SandboxApp;
  let real: TestApp;
  before(async () => {
    sandbox = await startSandboxApp();
    real = await startTestApp();
  });
  after(async () => {
    await sandbox?.close();
    await real?.close();
  });

  test('against a sandbox: every step passes, exit 0', async () => {
    const { code, output } = await runDemo(sandbox.baseUrl);
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /✗/);
    const steps = output.split('\n').filter((l) => /^✓ \d+\. /.test(l));
    assert.ok(steps.length >= 10, `steps:\n${output}`);
    assert.match(output, /POST \/wechat\/login/);
  });

  test('against a server that is not in sandbox mode: exit 1, saying so', async () => {
    const { code, output } = await runDemo(real.baseUrl);
    assert.equal(code, 1, output);
    assert.match(output, /not in sandbox mode/);
  });

  test('against no server: exit 1, asking whether it runs', async () => {
    const { code, output } = await runDemo(`http://127.0.0.1:${await freeLoopbackPort()}`);
    assert.equal(code, 1, output);
    assert.match(output, /Is the server running/);
  });
});
