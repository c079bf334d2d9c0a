import { createApp, type RunningApp } from './bootstrap';
import { ConfigError } from './config/configuration';
import { applyDotEnv, readDotEnv } from './config/dot-env';

const SHUTDOWN_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  // A local .env is a convenience for development; real environments set variables directly.
  try {
    const dotEnv = readDotEnv('.env');
    if (dotEnv) applyDotEnv(dotEnv);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }

  // Handlers first: a signal during start-up (the embedded database may already run) must stop what
  // started, not kill the process and leave PostgreSQL behind. SIGHUP (a closed terminal) likewise.
  let pending: string | undefined;
  let onSignal = (signal: string) => {
    if (pending) return;
    pending = signal;
    console.error(`${signal} received during start-up: stopping once what started is stopped`);
    setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS).unref();
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => onSignal(signal));

  let running: RunningApp | undefined;
  try {
    running = await createApp();
    if (!pending) await running.app.listen({ port: running.config.app.port, host: running.config.app.host });
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error('Failed to start:', err instanceof Error ? err.message : err);
    // A failed listen (port in use) comes after the embedded database started: stop it too, or the
    // next start would find it still running.
    await running?.close().catch(() => undefined);
    process.exit(1);
  }
  if (pending) {
    await running.close().catch(() => undefined);
    process.exit(0);
  }

  const { app, config, logger } = running;
  const url = await app.getUrl();
  logger.info(
    `Listening on ${url.replace('[::1]', 'localhost')} (${config.http.docsEnabled ? 'docs at /docs' : 'docs off'}, ${config.wechat.sandbox ? 'SANDBOX WeChat' : 'WeChat at ' + config.wechat.apiBaseUrl})`,
  );
  if (config.jwt.generated) logger.warn('JWT_SECRET is not set: using a development secret kept in the data folder. Never do this in production.');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received: finishing in-flight requests, then stopping`);
    const started = Date.now();
    const timer = setTimeout(() => {
      logger.error('shutdown took too long, exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    running.close().then(
      () => {
        logger.info(`stopped in ${Date.now() - started} ms`);
        process.exit(0);
      },
      (err) => {
        logger.error({ err: { message: (err as Error).message } }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  onSignal = shutdown;
}

void main();
