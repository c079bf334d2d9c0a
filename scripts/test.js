#!/usr/bin/env node
'use strict';
/**
 * `npm test`: compiles src/ and test/ with tsc (type errors fail the run), provides a PostgreSQL
 * server (DATABASE_URL when set, otherwise an embedded one for the whole run), then runs every
 * `*.spec.ts` and `*.e2e-spec.ts` with node's test runner. Each e2e file creates its own database.
 *
 *   npm test                      everything
 *   npm test -- test/login        only files whose path contains "test/login"
 */
const { spawn, spawnSync } = require('node:child_process');
const { readdirSync, rmSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const buildDir = join(root, '.build');
const filters = process.argv.slice(2);

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (/\.(e2e-)?spec\.js$/.test(name)) out.push(path);
  }
  return out;
}

async function main() {
  // A clean build: compiled tests of deleted sources must not linger and run.
  rmSync(buildDir, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) {
    console.error('tsc failed: fix the type errors above');
    process.exit(tsc.status ?? 1);
  }

  const files = [...findTests(join(buildDir, 'src')), ...findTests(join(buildDir, 'test'))]
    .filter((f) => filters.length === 0 || filters.some((s) => relative(buildDir, f).includes(s.replace(/\.ts$/, ''))))
    .sort();
  if (files.length === 0) {
    console.error('no test files matched');
    process.exit(1);
  }

  const env = { ...process.env, NODE_ENV: 'test' };
  let embedded;
  if (!env.DATABASE_URL) {
    const { EmbeddedPostgres } = require(join(buildDir, 'src/database/embedded-postgres.js'));
    embedded = await EmbeddedPostgres.start({
      dataDir: join(root, '.data', 'test'),
      persistent: false,
      logger: { log: (m) => console.log(`[test] ${m}`), warn: (m) => console.warn(`[test] ${m}`) },
    });
    env.DATABASE_URL = embedded.url;
    env.TEST_EMBEDDED_POSTGRES = '1';
  }
  console.log(`[test] PostgreSQL: ${embedded ? 'embedded' : 'DATABASE_URL'}; Redis: ${env.REDIS_URL ? 'REDIS_URL' : 'none (Redis tests will say they are skipped)'}`);

  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], { stdio: 'inherit', env, cwd: root });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  if (embedded) await embedded.stop();
  process.exit(code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
