import 'reflect-metadata';
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module';
import { ValidationFailedError } from './common/errors/app-error';
import { registerAvatarUploads } from './avatars/avatar-upload';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { sendFrameworkError } from './common/http/framework-errors';
import { registerJsonBodyParser } from './common/http/json-body-parser';
import { registerRequestLogging, requestId } from './common/http/request-logging';
import { createRootLogger } from './common/logging/root-logger';
import { setupSwagger } from './common/swagger/setup-swagger';
import { type AppConfig, type Env, loadConfig } from './config/configuration';
import { devJwtSecret } from './config/dev-jwt-secret';
import { devDataKey } from './config/profile-settings';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { registerPushXmlBodyParser } from './push/push-body-parser';
import { WechatSimulator } from './sandbox/wechat-simulator';
import { startWechatSimulatorServer } from './sandbox/wechat-simulator.server';
import { sandboxPushCredentials } from './sandbox/wechat-push-sender';

export const BODY_LIMIT_BYTES = 64 * 1024;

export interface CreateAppOptions {
  /** The environment to configure from; default `process.env`. */
  env?: Env;
  /** Log lines go here instead of stdout (tests capture them). */
  logDestination?: DestinationStream;
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
  const config = loadConfig(env, devJwtSecret, undefined, devDataKey);
  const logger = createRootLogger({ level: config.app.logLevel, pretty: !config.app.production && !options.logDestination && Boolean(process.stdout.isTTY), destination: options.logDestination });
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => logger.error({ err: { message: (err as Error).message } }, 'shutdown step failed'));
    cleanups.length = 0;
  };

  try {
    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      const embedded = await EmbeddedPostgres.start({
        dataDir: config.app.dataDir,
        logger: { log: (m) => logger.info(m), warn: (m) => logger.warn(m) },
      });
      cleanups.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }

    let simulator: WechatSimulator | undefined;
    if (config.wechat.sandbox) {
      simulator = new WechatSimulator({ appId: config.wechat.appId, secret: config.wechat.secret });
      const server = await startWechatSimulatorServer(simulator, { host: '127.0.0.1', port: 0 });
      cleanups.push(() => server.close());
      config.wechat.apiBaseUrl = server.url;
      // The sandbox pushes to this service as WeChat would: it needs a Token and EncodingAESKey.
      Object.assign(config.wechat, sandboxPushCredentials(config.wechat));
      logger.warn(
        `SANDBOX MODE: WECHAT_APPID/WECHAT_SECRET are not set, so a built-in fake WeChat answers at ${server.url}. ` +
          'No real WeChat server is reached. Get login data from POST /sandbox/wx-login.',
      );
    }

    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot({ config, databaseUrl, logger, simulator }),
      new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: true, genReqId: requestId, frameworkErrors: sendFrameworkError }),
      { bufferLogs: true, abortOnError: false, bodyParser: false },
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
    app.useLogger(app.get(Logger));
    configureApp(app, config, logger);
    await app.init();
    return { app, config, logger, simulator, close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Global behaviour shared by every route: validation, errors, docs. */
function configureApp(app: NestFastifyApplication, config: AppConfig, logger: PinoLogger): void {
  const fastify = app.getHttpAdapter().getInstance();
  // JSON only (CONTRACT §3): Nest's own parsers are off (`bodyParser: false`) and ours is the only
  // one left, so any other body is a 415.
  registerJsonBodyParser(fastify);
  // multipart/form-data for the avatar upload route only (wx.uploadFile); every other route stays JSON-only.
  registerAvatarUploads(fastify, config.avatars.maxBytes);
  // WeChat's message push may be XML: accepted on that route only (every other route stays JSON-only).
  registerPushXmlBodyParser(fastify);
  registerRequestLogging(fastify, logger);
  // Nest routes Fastify's own failures (bad JSON, body too large) through the global filter too.
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      stopAtFirstError: true,
      exceptionFactory: (errors) => new ValidationFailedError(describeValidationErrors(errors)),
    }),
  );
  setupSwagger(app, config.wechat.sandbox);
}

function describeValidationErrors(errors: ValidationError[], prefix = ''): string {
  const parts: string[] = [];
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) parts.push(...Object.values(e.constraints));
    if (e.children?.length) parts.push(describeValidationErrors(e.children, path));
    if (!e.constraints && !e.children?.length) parts.push(`${path} is invalid`);
  }
  return parts.join('; ') || 'request body must be a JSON object';
}
