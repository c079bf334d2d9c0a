#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: the service against two baselines measured in the same run, on the same machine
 * (each route's target against its baseline measured right before and after it):
 * bare Fastify (the HTTP stack's ceiling) and a minimal NestJS-on-Fastify app answering
 * `{hello:'world'}` (the framework's ceiling).
 *
 * Starts, each in its own process: both baselines, the fake WeChat server, the app
 * (`node dist/main.js` with the flags of `npm run start:prod`, production mode, on DATABASE_URL or an
 * embedded PostgreSQL under .data/bench), and the login's floor (login-floor-server.js: the work
 * every login must do, in a minimal Nest app; measured right after the login, for reference).
 * For each target in ROUTES: a warm-up, then a fixed-time load at N connections (autocannon), with the
 * CPU time the serving process spent per request (from /proc/<pid>/stat: steadier than throughput on
 * a shared machine; the database's own CPU is not in it) and the kernel's part of it. Then POST /wechat/login again at a fixed
 * offered rate of half its measured capacity, as an open-loop load with evenly spaced requests (p99
 * at saturation only restates throughput; see offeredLoad), the app's
 * RSS after load, and its RSS after --rss-users distinct users have logged in (real logins through the
 * fake WeChat, code only, at saturation). Prints a table with each route against both baselines and
 * writes the same as JSON to bench/results/.
 *
 *   npm run bench                              10 s per target, 32 connections, 3 s warm-up, 150,000 users
 *   npm run bench -- --duration 20 --connections 64 --warmup 5
 *   npm run bench -- --quick                   3 s per target, 1 s warm-up, 10,000 users (a smoke run)
 *   npm run bench -- --rss-users 0             skip the many-users step
 *   npm run bench -- --profile                 also writes a CPU profile of the app to bench/profiles/
 *   BENCH_NODE_ARGS=--perf-basic-prof npm run bench   node flags for the app (here: symbols for Linux perf)
 *   npm run bench -- --only health,me          a subset of the app's targets (see ROUTES)
 *   npm run bench -- --before HEAD~1           also the app as of a git revision (built under
 *                                              .data/before/), measured in the same run, alternating
 *                                              (A B B A) with the current code on each target: a change's before/after
 *
 * GET /avatars/{id} serves one uploaded avatar (a generated 640×640 JPEG, uploaded as wx.uploadFile
 * does before the load) and is held to GET /health of the same run.
 */
const autocannon = require('autocannon');
const { fork, spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

const root = join(__dirname, '..');
const args = parseArgs(process.argv.slice(2));
const DURATION = args.quick ? 3 : Number(args.duration ?? 10);
const WARMUP = args.quick ? 1 : Number(args.warmup ?? 3);
const CONNECTIONS = Number(args.connections ?? 32);
const USERS = Number(args.users ?? 500);
const RSS_USERS = Number(args['rss-users'] ?? (args.quick ? 10_000 : 150_000));
const APPID = 'wxbench0000000000';
const SECRET = 'bench-secret-0123456789abcdef';
const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** Targets of issue 13: ratios to the baselines measured in the same run, CPU, latency at half capacity, memory. */
const TARGETS = { loginCpuUs: 300, loginP99AtHalfMs: 25, rssMiB: 256, avatarVsHealth: 0.5 };

/**
 * The app's routes under load. `vs` is the baseline each one is held to (`fastify` or `nest`) with the
 * least ratio of its throughput; `options(ctx)` gives autocannon's request options. A new row is one entry.
 */
const ROUTES = [
  { key: 'health', name: 'GET /health', vs: 'nest', min: 0.9, options: (ctx) => ({ url: `${ctx.appUrl}/health` }) },
  { key: 'me', name: 'GET /users/me', vs: 'nest', min: 0.8, options: (ctx) => ({ url: `${ctx.appUrl}/users/me`, headers: { authorization: `Bearer ${ctx.token}` } }) },
  // Held to GET /health of the same run (see the checks below), not to a baseline.
  { key: 'avatar', name: 'GET /avatars/{id}', vs: 'health', min: TARGETS.avatarVsHealth, options: async (ctx) => ({ url: await uploadAvatar(ctx) }) },
  {
    key: 'login',
    name: 'POST /wechat/login',
    vs: 'fastify',
    min: 0.05,
    // Fresh single-use codes, enough for the warm-up and the run at a generous rate (a shortage shows as
    // non-2xx). 4000 a second ran short: the login floor reached 4337 on a fast day.
    options: async (ctx) => loginRequests(ctx, Math.max(5000, (DURATION + WARMUP) * 8000)),
  },
];

/**
 * The app's environment settings and Node flags as `npm run start:prod` gives them (package.json:
 * `NAME=value … exec node --flag … dist/main.js`): the bench runs the app as production does.
 */
const START = /^((?:\w+=\S+\s+)*)exec node ((?:--\S+\s+)*)dist\/main\.js$/.exec(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts['start:prod']);
if (!START) throw new Error('package.json start:prod is not `NAME=value … exec node --flag … dist/main.js`');
const APP_START_ENV = Object.fromEntries(
  START[1]
    .split(/\s+/)
    .filter(Boolean)
    // At the first `=`: a value may hold one too.
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const APP_NODE_FLAGS = START[2].split(/\s+/).filter(Boolean);

const children = [];
/** The embedded PostgreSQL of this run, when DATABASE_URL is not set; stopped last, whatever happens. */
let embedded;

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

/** Memory figures of /proc/<pid>/status in MiB: VmRSS, and its parts RssAnon (heap, malloc) and RssFile (mapped code). */
function statusMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (field) => {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  };
  return { VmRSS: mib('VmRSS'), RssAnon: mib('RssAnon'), RssFile: mib('RssFile') };
}

/** CPU time the process has used so far, in microseconds: user and system (kernel), fields 14 and 15 of /proc/<pid>/stat. */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const toMicros = (ticks) => (Number(ticks) * 1e6) / CLOCK_TICKS_PER_SECOND;
  return { user: toMicros(fields[11]), system: toMicros(fields[12]) };
}

/**
 * CPU per request between two readings: all of it, and the kernel's part (system time: mostly the
 * socket writes, which on loopback also run the receiving side's network stack).
 */
function cpuPerRequest(before, after, requests) {
  if (!requests) return { cpuUsPerRequest: null, kernelUsPerRequest: null };
  const system = after.system - before.system;
  return { cpuUsPerRequest: Math.round((after.user - before.user + system) / requests), kernelUsPerRequest: Math.round(system / requests) };
}

/** Warm-up, then the measured run; `pid` is the serving process whose CPU time is counted. */
async function load(name, pid, opts) {
  const base = { connections: CONNECTIONS, pipelining: 1, ...opts };
  if (WARMUP > 0) await autocannon({ ...base, duration: WARMUP });
  const cpuBefore = cpuMicros(pid);
  const r = await autocannon({ ...base, duration: DURATION });
  const cpu = cpuPerRequest(cpuBefore, cpuMicros(pid), r.requests.total);
  return {
    name,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    ...cpu,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

/**
 * An open-loop load at a fixed offered rate: request i is due at start + i / rate, whatever the answers
 * before it did, and its latency counts from when it was due (a late send is the server's delay too:
 * no coordinated omission). autocannon's `overallRate` is no such load: each connection sends its
 * quota for the second back to back and then waits, so its p99 is that of a burst at saturation.
 * Warm-up at the same rate first, then the measured run; `pid`'s CPU time as in `load`.
 */
async function offeredLoad(name, pid, { url, path, bodies, rate }) {
  const { Pool } = require('undici');
  // Connections enough for a slow moment (a due request waits for one, and that wait counts), but no
  // more than a client tier would open: each one costs the app memory, which the RSS check counts.
  const pool = new Pool(url, { connections: 64, pipelining: 1 });
  let next = 0;
  const run = async (seconds) => {
    const total = Math.round(seconds * rate);
    const latencies = new Float64Array(total);
    // How late the generator itself sent each request (its own event loop, on the same cores): a
    // late send counts against the server above, so this says how much of the tail is the generator's.
    const lateness = new Float64Array(total);
    let errors = 0;
    let non2xx = 0;
    let sent = 0;
    const started = performance.now();
    const inFlight = [];
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        while (sent < total && started + (sent * 1000) / rate <= now) {
          const i = sent++;
          const due = started + (i * 1000) / rate;
          lateness[i] = now - due;
          inFlight.push(
            pool
              .request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: bodies[next++ % bodies.length] })
              .then(async (res) => {
                await res.body.dump();
                if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
              })
              .catch(() => errors++)
              .finally(() => (latencies[i] = performance.now() - due)),
          );
        }
        if (sent < total) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    await Promise.all(inFlight);
    const quantile = (values, q) => {
      const sorted = values.slice().sort();
      return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10;
    };
    return {
      requests: total,
      rps: Math.round(total / ((performance.now() - started) / 1000)),
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      generatorLateP99: quantile(lateness, 0.99),
      errors,
      non2xx,
    };
  };
  try {
    if (WARMUP > 0) await run(WARMUP);
    const cpuBefore = cpuMicros(pid);
    const r = await run(DURATION);
    return { name, ...r, ...cpuPerRequest(cpuBefore, cpuMicros(pid), r.requests) };
  } finally {
    await pool.close();
  }
}

/** Login bodies for `count` logins, each with a fresh code from the fake WeChat (the pool's users, in turn). */
async function loginBodies(ctx, count) {
  return { bodies: (await ask(ctx.wechat, { type: 'codes', count, openIds: ctx.openIds })).logins.map((b) => JSON.stringify(b)) };
}

/** autocannon's options for `count` logins (see loginBodies). */
async function loginRequests(ctx, count) {
  const { bodies } = await loginBodies(ctx, count);
  let next = 0;
  return {
    url: ctx.appUrl,
    requests: [{ method: 'POST', path: '/wechat/login', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  };
}

/** `count` first logins of distinct new users (code only: the user row, its session key, its caches). */
async function loginManyUsers(ctx, count) {
  const started = Date.now();
  const batch = 25_000;
  let done = 0;
  let failed = 0;
  const tag = randomBytes(3).toString('hex');
  while (done < count) {
    const n = Math.min(batch, count - done);
    const { codes } = await ask(ctx.wechat, { type: 'bare-codes', count: n, prefix: `orss${tag}x${done}x` });
    const bodies = codes.map((code) => JSON.stringify({ code }));
    let next = 0;
    const r = await autocannon({
      url: ctx.appUrl,
      connections: CONNECTIONS,
      amount: n,
      requests: [{ method: 'POST', path: '/wechat/login', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: bodies[next++] }) }],
    });
    failed += r.errors + r.timeouts + r.non2xx;
    done += n;
  }
  return { users: count, failed, seconds: Math.round((Date.now() - started) / 1000) };
}

async function main() {
  console.log(`Building (tsc -p tsconfig.build.json)…`);
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  if (build.status !== 0) throw new Error('build failed');

  const fastifyHello = await forkReady('baseline-server.js', {});
  const nestHello = await forkReady('nest-hello-server.js', {});
  const wechat = await forkReady('fake-wechat-server.js', { BENCH_APPID: APPID, BENCH_SECRET: SECRET });
  const { freeLoopbackPort } = require(join(root, 'dist', 'common', 'system.js'));
  const appEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    WECHAT_APPID: APPID,
    WECHAT_SECRET: SECRET,
    WECHAT_API_BASE_URL: wechat.url,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // One client address sends every login here: the per-IP login limit would measure itself.
    LOGIN_RATE_LIMIT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    DATA_DIR: join(root, '.data', 'bench'),
    ...APP_START_ENV,
  };
  if (process.env.DATABASE_URL) {
    appEnv.DATABASE_URL = process.env.DATABASE_URL;
  } else {
    // Production mode requires DATABASE_URL: the benchmark provides an embedded server itself.
    const { EmbeddedPostgres } = require(join(root, 'dist', 'database', 'embedded-postgres.js'));
    embedded = await EmbeddedPostgres.start({ dataDir: join(root, '.data', 'bench'), logger: { log: () => undefined, warn: (m) => console.warn(m) } });
    appEnv.DATABASE_URL = embedded.url;
  }
  const current = await startApp('', join(root, 'dist', 'main.js'), appEnv, await freeLoopbackPort());
  const apps = [current];
  if (args.before) {
    const { dir, sha } = buildRevision(String(args.before));
    apps.push(await startApp(` (before: ${sha.slice(0, 7)})`, join(dir, 'dist', 'main.js'), appEnv, await freeLoopbackPort()));
  }
  const app = current.child;

  // A pool of users, each logged in once, so the measured logins mostly update existing rows.
  const openIds = Array.from({ length: USERS }, (_, i) => `obench${String(i).padStart(6, '0')}${randomBytes(4).toString('hex')}`);
  // Every app logs the pool in once: these logins are also each app's first warm-up, alike.
  let token;
  for (const a of apps) {
    const first = (await ask(wechat.child, { type: 'codes', count: USERS, openIds })).logins;
    for (const body of first) {
      const res = await fetch(`${a.url}/wechat/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`setup login failed: ${res.status} ${await res.text()}`);
      token ??= (await res.json()).token;
    }
  }
  const ctxs = apps.map((a) => ({ appUrl: a.url, token, openIds, wechat: wechat.child }));
  const only = args.only ? String(args.only).split(',') : ROUTES.map((r) => r.key);
  const routes = ROUTES.filter((r) => only.includes(r.key));
  // The login's floor (see login-floor-server.js), on the same database and fake WeChat, after the
  // app has migrated the database and logged the pool in.
  const floor = only.includes('login')
    ? await forkReady('login-floor-server.js', { BENCH_APPID: APPID, BENCH_SECRET: SECRET, WECHAT_API_BASE_URL: wechat.url, DATABASE_URL: appEnv.DATABASE_URL })
    : undefined;

  console.log(`Load: ${CONNECTIONS} connections, ${DURATION} s per target after ${WARMUP} s warm-up; ${USERS} users; ${process.version}\n`);
  // The machine's speed drifts within a run (on a shared machine by a third in minutes): each route is
  // held to its baseline measured right before and right after it, and the baseline rows are the
  // means of all their measurements (at the start, around the routes, at the end).
  const baselines = {
    fastify: { name: 'baseline: bare Fastify', pid: fastifyHello.child.pid, url: `http://127.0.0.1:${fastifyHello.port}/`, runs: [] },
    nest: { name: 'baseline: Nest hello', pid: nestHello.child.pid, url: `http://127.0.0.1:${nestHello.port}/`, runs: [] },
  };
  const measureBaseline = async (key) => {
    const b = baselines[key];
    const r = await load(b.name, b.pid, { url: b.url });
    b.runs.push(r);
    return r;
  };
  for (const key of Object.keys(baselines)) await measureBaseline(key);
  const measuredRoutes = [];
  const before = [];
  for (const route of routes) {
    const own = baselines[route.vs] ? await measureBaseline(route.vs) : undefined;
    const measured = await loadEach(apps, async (a, i) => load(route.name + a.label, a.child.pid, await route.options(ctxs[i])));
    const adjacent = own && combine(own, await measureBaseline(route.vs));
    for (const [i, a] of apps.entries()) {
      const r = Object.assign(measured[i], { key: route.key });
      if (adjacent) r.vsAdjacentBaseline = Number((r.rps / adjacent.rps).toFixed(3));
      (a === current ? measuredRoutes : before).push(r);
    }
    if (route.key === 'login' && floor) {
      const floorCtx = { ...ctxs[0], appUrl: `http://127.0.0.1:${floor.port}` };
      measuredRoutes.push(Object.assign(await load('reference: login floor', floor.child.pid, await route.options(floorCtx)), { key: 'login-floor' }));
    }
  }
  for (const key of Object.keys(baselines)) await measureBaseline(key);
  const [fastify, nest] = Object.values(baselines).map((b) => combine(...b.runs));
  const results = [fastify, nest, ...measuredRoutes];
  for (const r of [...results, ...before]) {
    r.vsFastify = Number((r.rps / fastify.rps).toFixed(3));
    r.vsNest = Number((r.rps / nest.rps).toFixed(3));
  }

  // Latency where a service runs: a fixed offered rate of half the measured login capacity.
  const login = results.find((r) => r.key === 'login');
  let loginAtHalf;
  const beforeAtHalf = [];
  if (login) {
    const rates = apps.map((a) => Math.max(1, Math.round((a === current ? results : before).find((r) => r.key === 'login').rps / 2)));
    const measured = await loadEach(apps, async (a, i) => {
      const { bodies } = await loginBodies(ctxs[i], Math.ceil(rates[i] * (DURATION + WARMUP)) + 100);
      return offeredLoad(`POST /wechat/login at ${rates[i]} req/s offered${a.label}`, a.child.pid, { url: ctxs[i].appUrl, path: '/wechat/login', bodies, rate: rates[i] });
    });
    for (const [i, a] of apps.entries()) {
      measured[i].offeredRate = rates[i];
      if (a === current) loginAtHalf = measured[i];
      else beforeAtHalf.push(measured[i]);
    }
  }
  const memory = statusMiB(app.pid);
  const rss = memory.VmRSS;
  let many;
  if (RSS_USERS > 0) {
    console.log(`Logging in ${RSS_USERS} distinct new users…`);
    many = await loginManyUsers(ctxs[0], RSS_USERS);
    many.rssMiB = statusMiB(app.pid).VmRSS;
  }

  printTable([...results.slice(0, 2), ...interleave(before, results.slice(2))], [...beforeAtHalf, ...(loginAtHalf ? [loginAtHalf] : [])], memory, many);
  const checks = [];
  const health = results.find((x) => x.key === 'health');
  for (const route of routes) {
    const r = results.find((x) => x.key === route.key);
    if (route.vs === 'health') {
      if (health) checks.push([`${route.name} ≥ ${route.min} × GET /health (${(r.rps / health.rps).toFixed(2)})`, r.rps >= route.min * health.rps]);
      continue;
    }
    const baseline = route.vs === 'nest' ? 'Nest hello' : 'bare Fastify';
    checks.push([`${route.name} ≥ ${route.min} × ${baseline} (${r.vsAdjacentBaseline.toFixed(3)} × ${baseline} measured right before and after it)`, r.vsAdjacentBaseline >= route.min]);
  }
  if (login) {
    checks.push([`login app CPU ≤ ${TARGETS.loginCpuUs} µs per request`, login.cpuUsPerRequest <= TARGETS.loginCpuUs]);
    checks.push([`login p99 ≤ ${TARGETS.loginP99AtHalfMs} ms at half capacity`, loginAtHalf.p99 <= TARGETS.loginP99AtHalfMs]);
  }
  checks.push([`zero errors and non-2xx`, [...results, ...(loginAtHalf ? [loginAtHalf] : [])].every((r) => r.errors === 0 && r.non2xx === 0) && !(many?.failed > 0)]);
  checks.push([`RSS after load ≤ ${TARGETS.rssMiB} MiB`, rss <= TARGETS.rssMiB]);
  if (many) checks.push([`RSS after ${many.users} users ≤ ${TARGETS.rssMiB} MiB`, many.rssMiB <= TARGETS.rssMiB]);
  console.log('');
  for (const [label, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}`);
  const loginFloor = results.find((x) => x.key === 'login-floor');
  if (login && loginFloor) {
    console.log(
      `\nThe login floor (the same validation, upstream call, statement and token in a minimal Nest app: bench/login-floor-server.js) used ${loginFloor.cpuUsPerRequest} µs of CPU per login, the app ${login.cpuUsPerRequest} µs.`,
    );
  }

  const out = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: require('node:os').cpus().length,
    loadAverage: require('node:os').loadavg(),
    settings: {
      duration: DURATION,
      warmup: WARMUP,
      connections: CONNECTIONS,
      users: USERS,
      rssUsers: RSS_USERS,
      database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded',
      logLevel: appEnv.LOG_LEVEL,
    },
    results,
    ...(args.before ? { before: { revision: String(args.before), results: before, loginAtHalfCapacity: beforeAtHalf[0] ?? null } } : {}),
    loginAtHalfCapacity: loginAtHalf ?? null,
    rssMiB: rss,
    memoryAfterLoadMiB: memory,
    manyUsers: many ?? null,
    targets: Object.fromEntries(checks.map(([label, ok]) => [label, ok])),
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  const file = join(__dirname, 'results', `bench-${out.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nWritten to ${file.replace(root + '/', '')}`);
  await shutdown();
}

/** Uploads a generated avatar as wx.uploadFile does; its URL (served while WeChat's check is pending too). */
async function uploadAvatar(ctx) {
  const sharp = require('sharp');
  const png = await sharp({ create: { width: 800, height: 800, channels: 3, background: '#3a7bd5' } })
    .composite([{ input: Buffer.from('<svg width="800" height="800"><circle cx="400" cy="330" r="170" fill="#f2d2a9"/></svg>') }])
    .png()
    .toBuffer();
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'avatar.png');
  const res = await fetch(`${ctx.appUrl}/users/me/avatar`, { method: 'POST', headers: { authorization: `Bearer ${ctx.token}` }, body: form });
  if (res.status !== 202) throw new Error(`avatar upload failed: ${res.status} ${await res.text()}`);
  const checks = (await ask(ctx.wechat, { type: 'mediaChecks' })).urls;
  if (!checks.length) throw new Error('the avatar was not sent to the image check');
  return `${ctx.appUrl}/avatars/${checks[checks.length - 1].split('/avatars/')[1]}`;
}

/**
 * `measure(app, index)` for every app. With one app, once. With --before, in the order A B B A and
 * each app's two runs combined: whichever runs first on a target runs on a colder machine state
 * (measured here: up to 1.5x the CPU per login), so neither revision gets that place alone.
 */
async function loadEach(apps, measure) {
  if (apps.length === 1) return [await measure(apps[0], 0)];
  const first = [];
  for (const [i, a] of apps.entries()) first[i] = await measure(a, i);
  const second = [];
  for (const [i, a] of [...apps.entries()].reverse()) second[i] = await measure(a, i);
  return first.map((r, i) => combine(r, second[i]));
}

/** Several runs of one target as one row: means of rate and latency, CPU per request over all their requests. */
function combine(...runs) {
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const mean = (field, digits) => Math.round((runs.reduce((n, r) => n + r[field], 0) / runs.length) * digits) / digits;
  const perRequest = (field) => (requests ? Math.round(runs.reduce((n, r) => n + r[field] * r.requests, 0) / requests) : null);
  return {
    name: runs[0].name,
    rps: mean('rps', 1),
    p50: mean('p50', 10),
    p99: mean('p99', 10),
    cpuUsPerRequest: perRequest('cpuUsPerRequest'),
    kernelUsPerRequest: perRequest('kernelUsPerRequest'),
    requests,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    runs: runs.map((r) => ({ rps: r.rps, p99: r.p99, cpuUsPerRequest: r.cpuUsPerRequest })),
    ...(runs[0].generatorLateP99 !== undefined ? { generatorLateP99: Math.max(...runs.map((r) => r.generatorLateP99)) } : {}),
  };
}

/** Each current row right after its before row (same key), when there is one. */
function interleave(before, current) {
  return current.flatMap((r) => [...before.filter((b) => b.key === r.key), r]);
}

/** Builds the app as of git revision `ref` under .data/before/<sha> (once per sha), on this checkout's node_modules. */
function buildRevision(ref) {
  const sha = spawnSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).stdout.trim();
  if (!sha) throw new Error(`--before ${ref}: no such revision`);
  const dir = join(root, '.data', 'before', sha);
  if (!existsSync(join(dir, 'dist', 'main.js'))) {
    console.log(`Building ${ref} (${sha.slice(0, 7)}) under ${dir.replace(root + '/', '')}…`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const archive = spawnSync('sh', ['-c', `git archive ${sha} src tsconfig.json tsconfig.build.json package.json | tar -x -C "${dir}"`], { cwd: root, stdio: 'inherit' });
    if (archive.status !== 0) throw new Error(`--before ${ref}: git archive failed`);
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit', cwd: dir });
    if (build.status !== 0) throw new Error(`--before ${ref}: build failed`);
  }
  return { dir, sha };
}

/** Starts one app process (`node <main>`) and waits until /health answers. */
async function startApp(label, main, env, port) {
  let log = '';
  const nodeArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(__dirname, 'profiles')}`] : (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // Production wants https for PUBLIC_BASE_URL (WeChat fetches avatars from it); the bench reads the id off it.
  const child = spawn(process.execPath, [...APP_NODE_FLAGS, ...nodeArgs, main], {
    env: { ...env, PORT: String(port), PUBLIC_BASE_URL: `https://127.0.0.1:${port}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, () => log);
  return { label, child, url };
}

function printTable(results, atHalf, memory, many) {
  const rows = [['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'of which kernel', '× Fastify', '× Nest hello', 'errors', 'non-2xx']];
  const row = (r) => [
    r.name,
    String(r.rps),
    String(r.p50),
    String(r.p99),
    String(r.cpuUsPerRequest ?? '-'),
    String(r.kernelUsPerRequest ?? '-'),
    r.vsFastify?.toFixed(3) ?? '-',
    r.vsNest?.toFixed(3) ?? '-',
    String(r.errors),
    String(r.non2xx),
  ];
  for (const r of results) rows.push(row(r));
  for (const r of atHalf) rows.push(row(r));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
  const line = (x) => `| ${x.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const x of rows.slice(1)) console.log(line(x));
  for (const r of atHalf) {
    if (r.generatorLateP99 !== undefined) console.log(`\n${r.name}: the load generator sent its requests up to ${r.generatorLateP99} ms late at p99 (counted in that row's latency)`);
  }
  console.log(`\napp RSS after load: ${memory.VmRSS} MiB (anonymous ${memory.RssAnon}, files ${memory.RssFile})`);
  if (many) console.log(`app RSS after ${many.users} distinct users logged in: ${many.rssMiB} MiB (${many.seconds} s, ${many.failed} failed)`);
}

async function shutdown() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  if (embedded) await embedded.stop();
}

/**
 * Ends a run that failed or was stopped: the processes it started, then the embedded server, last
 * (an app that did not start, a failed setup login, Ctrl-C): a server left running would hold
 * .data/bench and stop the next run.
 */
async function abort(code) {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await embedded?.stop().catch((stopFailed) => console.error(stopFailed));
  process.exit(code);
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
])
  process.once(signal, () => void abort(code));

main().catch(async (err) => {
  console.error(err);
  await abort(1);
});
