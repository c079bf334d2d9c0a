#!/usr/bin/env node
'use strict';
/**
 * `npm test`: builds the mini program client (client/, its own tsconfig: the ES2017 output that ships)
 * and compiles src/ and test/ with tsc (type errors fail either), provides a PostgreSQL
 * server (DATABASE_URL when set, otherwise an embedded one for the whole run), then runs every
 * `*.spec.ts` and `*.e2e-spec.ts` with node's test runner, the files shared out among a few processes
 * (see SHARDS). Each e2e file creates its own databases.
 *
 *   npm test                      everything
 *   npm test -- test/login        only files whose path contains "test/login"
 */
const { spawn } = require('node:child_process');
const { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { userInfo } = require('node:os');
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

/** tsc with `args`, running; `done` resolves to its exit code and output (printed by the caller, so two builds never interleave). */
function tsc(args) {
  const child = spawn(process.execPath, [require.resolve('typescript/bin/tsc'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output })));
  return { child, done };
}

/**
 * Loads a module of src/ from its TypeScript source, transpiled with the project's compiler options but
 * not type-checked: the embedded server starts while tsc checks and compiles the whole project.
 */
function requireSource(path) {
  const ts = require('typescript');
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  require.extensions['.ts'] = (module, filename) => {
    module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions: config.options }).outputText, filename);
  };
  try {
    return require(path);
  } finally {
    delete require.extensions['.ts'];
  }
}

/**
 * This run's scratch folder (several runs may go on at once; folders of runs that died are removed): in
 * memory (/dev/shm) where there is one, since the tests create databases, data folders and whole
 * PostgreSQL clusters, thousands of files, and creating a file on a busy disk can take a millisecond.
 * Elsewhere .data/test-runs.
 */
function scratchFolder() {
  let runs = join(root, '.data', 'test-runs');
  try {
    accessSync('/dev/shm', constants.W_OK);
    runs = join('/dev/shm', `wechat-miniprogram-login-test-runs-${userInfo().uid}`);
  } catch {
    // no /dev/shm (macOS, Windows): the disk it is
  }
  if (existsSync(runs)) for (const pid of readdirSync(runs)) if (!alive(Number(pid))) rmSync(join(runs, pid), { recursive: true, force: true });
  const dir = join(runs, String(process.pid));
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  return dir;
}

async function startEmbeddedPostgres(scratch) {
  const { EmbeddedPostgres } = requireSource(join(root, 'src/database/embedded-postgres.ts'));
  const embedded = await EmbeddedPostgres.start({
    dataDir: scratch,
    persistent: false,
    logger: { log: (m) => console.log(`[test] ${m}`), warn: (m) => console.warn(`[test] ${m}`) },
  });
  // A server for this run only, deleted afterwards: it need not survive a crash of the machine.
  await adminQuery(embedded.url, ['ALTER SYSTEM SET fsync = off', 'ALTER SYSTEM SET synchronous_commit = off', 'ALTER SYSTEM SET full_page_writes = off', 'SELECT pg_reload_conf()']);
  return embedded;
}

async function adminQuery(url, statements) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

async function main() {
  const builds = join(root, '.build');
  if (existsSync(builds))
    for (const name of readdirSync(builds)) {
      const m = /^run-(\d+)$/.exec(name);
      if (m && !alive(Number(m[1]))) rmSync(join(builds, name), { recursive: true, force: true });
    }
  // TEST_TEMPLATE_DATABASE: the migrated database the test databases are copied from, this run's own
  // (test/support/test-database.ts makes it when the first e2e file needs it).
  const env = { ...process.env, NODE_ENV: 'test', TEST_TEMPLATE_DATABASE: `t_template_${process.pid}` };
  const cleanups = [() => rmSync(buildDir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const step of cleanups.reverse()) await step();
  };
  const fail = async (message, code = 1) => {
    console.error(message);
    await cleanUp();
    process.exit(code);
  };

  // The client as it ships, built into this run's folder (its tests read it from CLIENT_DIST), while tsc
  // makes a clean build of src/ and test/ (compiled tests of deleted sources must not linger and run)
  // and the database server starts: the three are independent.
  const clientDist = join(buildDir, 'client-dist');
  env.CLIENT_DIST = clientDist;
  const clientBuild = tsc(['-p', join(root, 'client', 'tsconfig.json'), '--outDir', clientDist]);
  const build = tsc(['-p', join(root, 'tsconfig.json'), '--outDir', buildDir, '--incremental', 'false', '--tsBuildInfoFile', 'null']);
  cleanups.push(() => [clientBuild, build].forEach((b) => b.child.exitCode === null && b.child.kill()));
  // The tests' temporary folders (app data folders, PostgreSQL clusters of their own) go to the scratch folder too.
  const scratch = scratchFolder();
  cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
  env.TMPDIR = join(scratch, 'tmp');
  let embedded;
  if (!env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres(scratch).catch((err) => fail(err.stack ?? String(err)));
    cleanups.push(() => embedded.stop());
    env.DATABASE_URL = embedded.url;
    env.TEST_EMBEDDED_POSTGRES = '1';
  } else {
    cleanups.push(() => adminQuery(env.DATABASE_URL, [`ALTER DATABASE "${env.TEST_TEMPLATE_DATABASE}" IS_TEMPLATE false`, `DROP DATABASE "${env.TEST_TEMPLATE_DATABASE}"`]).catch(() => undefined));
  }
  const client = await clientBuild.done;
  process.stdout.write(client.output);
  const project = await build.done;
  process.stdout.write(project.output);
  if (client.code !== 0) await fail('the client build failed: fix the type errors above', client.code);
  if (project.code !== 0) await fail('tsc failed: fix the type errors above', project.code);

  const files = [...findTests(join(buildDir, 'src')), ...findTests(join(buildDir, 'test'))]
    .filter((f) => filters.length === 0 || filters.some((s) => relative(buildDir, f).includes(s.replace(/\.ts$/, ''))))
    .sort();
  if (files.length === 0) await fail('no test files matched');
  console.log(`[test] PostgreSQL: ${embedded ? 'embedded' : 'DATABASE_URL'}; Redis: ${env.REDIS_URL ? 'REDIS_URL' : 'none (Redis tests will say they are skipped)'}`);

  // Node 22+ keeps the compiled code of the modules every test file loads (Node 20 ignores this): this run's only.
  env.NODE_COMPILE_CACHE = join(buildDir, 'compile-cache');
  // A few test processes, each running its share of the files one after another: loading the app's
  // modules costs about 1.4 s of CPU per process, more than most files' own tests. Three processes at
  // once (on the 2 cores CI has): e2e files spend part of their time waiting (timeouts, polls, servers
  // starting), when a third can use the core. More would crowd the database server (200 connections;
  // a file may run several apps of up to 12 each).
  const timings = readTimings();
  const shards = shardFiles(files, timings, Math.min(SHARDS, files.length));
  const shardDir = join(buildDir, 'shards');
  mkdirSync(shardDir, { recursive: true });
  const entries = shards.map((shard, i) => {
    const entry = join(shardDir, `shard-${i + 1}.js`);
    writeFileSync(entry, shardSource(shard));
    return entry;
  });
  const timingsOut = join(buildDir, 'timings.json');
  const child = spawn(
    process.execPath,
    [
      '--test',
      '--test-concurrency=3',
      // A guard against a process that never ends (a handle left open); each file has its own bound
      // below, which comes first and names the file.
      `--test-timeout=${FILE_TIMEOUT_MS * (Math.max(...shards.map((s) => s.length)) + 1)}`,
      '--test-reporter=tap',
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(__dirname, 'test-timings-reporter.js')}`,
      `--test-reporter-destination=${timingsOut}`,
      ...entries,
    ],
    { stdio: 'inherit', env, cwd: root },
  );
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  saveTimings(timings, timingsOut);
  await cleanUp();
  process.exit(code);
}

/** How many processes share the test files (three run at once). */
const SHARDS = 6;
/**
 * How long one test file may run: a guard against a hang, not a measure of speed (the longest file takes
 * about 30 s on a quiet machine). It bounds each file, not each process: a process runs several files one
 * after another, and on a busy machine their sum passed a per-process bound of this size.
 */
const FILE_TIMEOUT_MS = 120_000;
/** Each file's last duration, kept between runs to share the files out evenly. */
const TIMINGS_FILE = join(root, '.data', 'test-timings.json');

function readTimings() {
  try {
    return JSON.parse(readFileSync(TIMINGS_FILE, 'utf8'));
  } catch {
    return {};
  }
}

function saveTimings(previous, measuredFile) {
  try {
    const measured = JSON.parse(readFileSync(measuredFile, 'utf8'));
    mkdirSync(join(root, '.data'), { recursive: true });
    writeFileSync(TIMINGS_FILE, JSON.stringify({ ...previous, ...measured }, null, 1));
  } catch {
    // a run that ended early measured nothing
  }
}

/** The source file a compiled test file is of (the name shown for it, and its key in the timings). */
function sourceName(file) {
  return relative(buildDir, file).replace(/\.js$/, '.ts');
}

/**
 * `count` shares of the files, longest first to the least loaded share, by their last duration. A file
 * not timed yet counts as a typical one of its kind (an e2e file starts apps and databases).
 */
function shardFiles(files, timings, count) {
  const guess = (file) => timings[sourceName(file)] ?? (file.endsWith('.e2e-spec.js') ? 3000 : 300);
  const shards = Array.from({ length: count }, () => ({ files: [], ms: 0 }));
  for (const file of [...files].sort((a, b) => guess(b) - guess(a))) {
    const least = shards.reduce((a, b) => (b.ms < a.ms ? b : a));
    least.files.push(file);
    least.ms += guess(file);
  }
  return shards.map((s) => s.files.sort());
}

/**
 * A process's entry: each of its files in a suite of its own, named after its source, so a file's
 * top-level before/after hooks run around that file's tests only, as they would in a process of its own.
 */
function shardSource(files) {
  const lines = ["'use strict';", "const { describe } = require('node:test');"];
  for (const file of files) lines.push(`describe(${JSON.stringify(sourceName(file))}, { timeout: ${FILE_TIMEOUT_MS} }, () => require(${JSON.stringify(file)}));`);
  return lines.join('\n') + '\n';
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
