#!/usr/bin/env node
'use strict';
/**
 * `npm test`: builds the mini program client (client/, its own tsconfig: the ES2017 output that ships)
 * and compiles src/ and test/ with tsc (type errors fail either), provides a PostgreSQL
 * server (DATABASE_URL when set, otherwise an embedded one for the whole run), then runs every
 * `*.spec.ts` and `*.e2e-spec.ts` with node's test runner. Each e2e file creates its own database.
 *
 *   npm test                      everything
 *   npm test -- test/login        only files whose path contains "test/login"
 */
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, readdirSync, rmSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
// A build folder per run: several runs (CI, a developer, an editor) may go on at once.
const buildDir = join(root, '.build', `run-${process.pid}`);
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
  const builds = join(root, '.build');
  if (existsSync(builds))
    for (const name of readdirSync(builds)) {
      const m = /^run-(\d+)$/.exec(name);
      if (m && !alive(Number(m[1]))) rmSync(join(builds, name), { recursive: true, force: true });
    }
  // The client as it ships, built into this run's folder (its tests read it from CLIENT_DIST).
  const clientDist = join(buildDir, 'client-dist');
  const clientTsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'client', 'tsconfig.json'), '--outDir', clientDist], { stdio: 'inherit' });
  if (clientTsc.status !== 0) {
    console.error('the client build failed: fix the type errors above');
    rmSync(buildDir, { recursive: true, force: true });
    process.exit(clientTsc.status ?? 1);
  }
  // A clean build: compiled tests of deleted sources must not linger and run.
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', buildDir, '--incremental', 'false', '--tsBuildInfoFile', 'null'], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) {
    console.error('tsc failed: fix the type errors above');
    rmSync(buildDir, { recursive: true, force: true });
    process.exit(tsc.status ?? 1);
  }

  const files = [...findTests(join(buildDir, 'src')), ...findTests(join(buildDir, 'test'))]
    .filter((f) => filters.length === 0 || filters.some((s) => relative(buildDir, f).includes(s.replace(/\.ts$/, ''))))
    .sort();
  if (files.length === 0) {
    console.error('no test files matched');
    process.exit(1);
  }

  const env = { ...process.env, NODE_ENV: 'test', CLIENT_DIST: clientDist };
  let embedded;
  if (!env.DATABASE_URL) {
    const { EmbeddedPostgres } = require(join(buildDir, 'src/database/embedded-postgres.js'));
    // One data folder per run (several runs may go on at once); leftovers of dead runs are removed.
    const runs = join(root, '.data', 'test-runs');
    if (existsSync(runs)) for (const pid of readdirSync(runs)) if (!alive(Number(pid))) rmSync(join(runs, pid), { recursive: true, force: true });
    embedded = await EmbeddedPostgres.start({
      dataDir: join(runs, String(process.pid)),
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
  if (embedded) {
    await embedded.stop();
    rmSync(join(root, '.data', 'test-runs', String(process.pid)), { recursive: true, force: true });
  }
  rmSync(buildDir, { recursive: true, force: true });
  process.exit(code);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
