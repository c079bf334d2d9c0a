#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: the service against a bare Fastify baseline, measured in the same run.
 *
 * Starts, each in its own process: a bare Fastify "hello" server, the fake WeChat server, and the
 * app (`node dist/main.js`, on DATABASE_URL or an embedded PostgreSQL under .data/bench). Then, for
 * each target, a warm-up and a fixed-time load at N connections (autocannon): the baseline,
 * GET /health, guarded GET /users/me, POST /wechat/login with a fresh wx.login code per request
 * (a pool of users, so most logins update an existing row). Prints a table with each route's
 * ratio to the baseline and the app's RSS after load, and writes the same as JSON to bench/results/.
 *
 *   npm run bench                              10 s per target, 32 connections, 3 s warm-up
 *   npm run bench -- --duration 20 --connections 64 --warmup 5
 *   npm run bench -- --quick                   3 s per target, 1 s warm-up (a smoke run)
 *   npm run bench -- --profile                 also writes a CPU profile of the app to bench/profiles/
 *   npm run bench -- --only health,me          a subset of the app's targets (health, me, avatar, login)
 *
 * GET /avatars/{id} serves one uploaded avatar (a generated 640×640 JPEG, uploaded as wx.uploadFile
 * does before the load) and is compared with GET /health of the same run.
 */
const autocannon = require('autocannon');
const { fork, spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

const root = join(__dirname, '..');
const args = parseArgs(process.argv.slice(2));
const DURATION = args.quick ? 3 : Number(args.duration ?? 10);
const WARMUP = args.quick ? 1 : Number(args.warmup ?? 3);
const CONNECTIONS = Number(args.connections ?? 32);
const USERS = Number(args.users ?? 500);
const APPID = 'wxbench0000000000';
const SECRET = 'bench-secret-0123456789abcdef';

/** Targets of issue 6: ratios to bare Fastify measured in the same run. */
const TARGETS = { health: 0.25, me: 0.15, login: 0.03, loginP99Ms: 60, rssMiB: 256, avatarVsHealth: 0.5 };

const children = [];
let wechatChild;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    if (m[2] !== undefined) out[m[1]] = m[2];
    else if (argv[i + 1] && !argv[i + 1].startsWith('--')) out[m[1]] = argv[++i];
    else out[m[1]] = true;
  }
  return out;
}

function forkReady(file, env) {
  const child = fork(join(__dirname, file), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
    child.on('message', (msg) => msg.ready && resolve({ child, ...msg }));
  });
}

function ask(child, msg) {
  const id = Math.random();
  return new Promise((resolve) => {
    const onMessage = (reply) => {
      if (reply.id === id) {
        child.off('message', onMessage);
        resolve(reply);
      }
    };
    child.on('message', onMessage);
    child.send({ ...msg, id });
  });
}

async function waitHealthy(url, child, log) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${log()}`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`the app did not become healthy:\n${log()}`);
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function load(name, opts) {
  const base = { connections: CONNECTIONS, pipelining: 1, ...opts };
  if (WARMUP > 0) await autocannon({ ...base, duration: WARMUP });
  const r = await autocannon({ ...base, duration: DURATION });
  return {
    name,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

async function main() {
  console.log(`Building (tsc -p tsconfig.build.json)…`);
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  if (build.status !== 0) throw new Error('build failed');

  const baseline = await forkReady('baseline-server.js', {});
  const wechat = await forkReady('fake-wechat-server.js', { BENCH_APPID: APPID, BENCH_SECRET: SECRET });
  wechatChild = wechat.child;
  const { freeLoopbackPort } = require(join(root, 'dist', 'common', 'system.js'));
  const port = await freeLoopbackPort();
  const appEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    WECHAT_APPID: APPID,
    WECHAT_SECRET: SECRET,
    WECHAT_API_BASE_URL: wechat.url,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    DATA_DIR: join(root, '.data', 'bench'),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Production wants https here (WeChat fetches avatars from it); the bench reads the id off it.
    PUBLIC_BASE_URL: `https://127.0.0.1:${port}`,
  };
  let embedded;
  if (process.env.DATABASE_URL) {
    appEnv.DATABASE_URL = process.env.DATABASE_URL;
  } else {
    // Production mode requires DATABASE_URL: the benchmark provides an embedded server itself.
    const { EmbeddedPostgres } = require(join(root, 'dist', 'database', 'embedded-postgres.js'));
    embedded = await EmbeddedPostgres.start({ dataDir: join(root, '.data', 'bench'), logger: { log: () => undefined, warn: (m) => console.warn(m) } });
    appEnv.DATABASE_URL = embedded.url;
  }
  let appLog = '';
  const nodeArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(__dirname, 'profiles')}`] : [];
  const app = spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'main.js')], { env: appEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  app.stderr.on('data', (d) => (appLog = (appLog + d).slice(-4000)));
  children.push(app);
  const appUrl = `http://127.0.0.1:${port}`;
  await waitHealthy(appUrl, app, () => appLog);

  // A pool of users, each logged in once, so the measured logins mostly update existing rows.
  const openIds = Array.from({ length: USERS }, (_, i) => `obench${String(i).padStart(6, '0')}${randomBytes(4).toString('hex')}`);
  const first = (await ask(wechat.child, { type: 'codes', count: USERS, openIds })).logins;
  let token;
  for (const body of first) {
    const res = await fetch(`${appUrl}/wechat/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`setup login failed: ${res.status} ${await res.text()}`);
    token ??= (await res.json()).token;
  }

  const results = [];
  console.log(`Load: ${CONNECTIONS} connections, ${DURATION} s per target after ${WARMUP} s warm-up; ${USERS} users\n`);
  results.push(await load('baseline (bare Fastify)', { url: `http://127.0.0.1:${baseline.port}/` }));
  const only = args.only ? String(args.only).split(',') : ['health', 'me', 'avatar', 'login'];
  if (only.includes('health')) results.push(await load('GET /health', { url: `${appUrl}/health` }));
  if (only.includes('me')) results.push(await load('GET /users/me', { url: `${appUrl}/users/me`, headers: { authorization: `Bearer ${token}` } }));
  if (only.includes('avatar')) results.push(await load('GET /avatars/{id}', { url: await uploadAvatar(appUrl, token) }));

  // Enough single-use codes for the warm-up and the run at a generous rate; a shortage shows as non-2xx.
  if (only.includes('login')) {
  const needed = Math.max(5000, (DURATION + WARMUP) * 4000);
  const bodies = (await ask(wechat.child, { type: 'codes', count: needed, openIds })).logins.map((b) => JSON.stringify(b));
  let next = 0;
  results.push(
    await load('POST /wechat/login', {
      url: appUrl,
      requests: [{ method: 'POST', path: '/wechat/login', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
    }),
  );
  }
  const rss = rssMiB(app.pid);

  const base = results[0].rps;
  for (const r of results) r.ratio = Number((r.rps / base).toFixed(3));
  printTable(results, rss);
  const health = results.find((r) => r.name === 'GET /health');
  const me = results.find((r) => r.name === 'GET /users/me');
  const login = results.find((r) => r.name === 'POST /wechat/login');
  const avatar = results.find((r) => r.name === 'GET /avatars/{id}');
  const checks = [
    ...(health ? [[`/health ratio ≥ ${TARGETS.health}`, health.ratio >= TARGETS.health]] : []),
    ...(me ? [[`/users/me ratio ≥ ${TARGETS.me}`, me.ratio >= TARGETS.me]] : []),
    ...(avatar && health ? [[`/avatars/{id} ≥ ${TARGETS.avatarVsHealth} × /health (${(avatar.rps / health.rps).toFixed(2)})`, avatar.rps >= TARGETS.avatarVsHealth * health.rps]] : []),
    ...(login ? [[`/wechat/login ratio ≥ ${TARGETS.login}`, login.ratio >= TARGETS.login], [`login p99 ≤ ${TARGETS.loginP99Ms} ms`, login.p99 <= TARGETS.loginP99Ms]] : []),
    [`zero errors and non-2xx`, results.every((r) => r.errors === 0 && r.non2xx === 0)],
    [`RSS after load ≤ ${TARGETS.rssMiB} MiB`, rss <= TARGETS.rssMiB],
  ];
  console.log('');
  for (const [label, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}`);

  const out = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: require('node:os').cpus().length,
    settings: { duration: DURATION, warmup: WARMUP, connections: CONNECTIONS, users: USERS, database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded', logLevel: appEnv.LOG_LEVEL },
    results,
    rssMiB: rss,
    targets: Object.fromEntries(checks.map(([label, ok]) => [label, ok])),
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  const file = join(__dirname, 'results', `bench-${out.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nWritten to ${file.replace(root + '/', '')}`);
  await shutdown(embedded);
}

/** Uploads a generated avatar as wx.uploadFile does; its URL (served while WeChat's check is pending too). */
async function uploadAvatar(appUrl, token) {
  const sharp = require('sharp');
  const png = await sharp({ create: { width: 800, height: 800, channels: 3, background: '#3a7bd5' } })
    .composite([{ input: Buffer.from('<svg width="800" height="800"><circle cx="400" cy="330" r="170" fill="#f2d2a9"/></svg>') }])
    .png()
    .toBuffer();
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'avatar.png');
  const res = await fetch(`${appUrl}/users/me/avatar`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  if (res.status !== 202) throw new Error(`avatar upload failed: ${res.status} ${await res.text()}`);
  const checks = (await ask(wechatChild, { type: 'mediaChecks' })).urls;
  if (!checks.length) throw new Error('the avatar was not sent to the image check');
  return `${appUrl}/avatars/${checks[checks.length - 1].split('/avatars/')[1]}`;
}

function printTable(results, rss) {
  const rows = [['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'ratio']];
  for (const r of results) rows.push([r.name, String(r.rps), String(r.p50), String(r.p99), String(r.errors), String(r.non2xx), r.ratio.toFixed(3)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
  console.log(`\napp RSS after load: ${rss} MiB`);
}

async function shutdown(embedded) {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  if (embedded) await embedded.stop();
}

main().catch(async (err) => {
  console.error(err);
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  process.exit(1);
});
