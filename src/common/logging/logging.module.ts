import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';

/**
 * Nest's own logging (bootstrap, `new Logger(...)` in providers) through nestjs-pino into the one
 * root pino logger. Request lines are written by a Fastify hook (see common/http/request-logging.ts),
 * which knows the matched route and costs no middleware layer.
 */
@Module({})
export class LoggingModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger, autoLogging: false }, forRoutes: [] })],
    };
  }
}
