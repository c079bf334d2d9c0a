import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's logger (`new Logger(...)` in providers, Nest's own start-up lines) writing into this app's
 * pino logger, with Nest's argument conventions: the last extra argument is the context, an object
 * message becomes the line's fields, an Error its `err`.
 *
 * Of this app only, on purpose: nestjs-pino keeps one root logger per process (the first app's), so a
 * second app in the same process (a second instance in a test, the next test file of a test process)
 * wrote its lines into the first one's destination.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  readonly verbose = (message: unknown, ...params: unknown[]): void => this.write('trace', message, params);
  readonly debug = (message: unknown, ...params: unknown[]): void => this.write('debug', message, params);
  readonly log = (message: unknown, ...params: unknown[]): void => this.write('info', message, params);
  readonly warn = (message: unknown, ...params: unknown[]): void => this.write('warn', message, params);
  readonly error = (message: unknown, ...params: unknown[]): void => this.write('error', message, params);
  readonly fatal = (message: unknown, ...params: unknown[]): void => this.write('fatal', message, params);

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    let rest = params;
    if (params.length > 0) {
      fields.context = params[params.length - 1];
      rest = params.slice(0, -1);
    }
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, ...(rest as []));
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level](Object.assign(fields, message), ...(rest as []));
    } else if (level === 'error' && typeof message === 'string' && rest.length === 1 && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's exception handlers call error(message, stack, context): the stack belongs to an error.
      const err = new Error(message);
      err.stack = rest[0];
      fields.err = err;
      this.logger[level](fields);
    } else {
      this.logger[level](fields, message as string, ...(rest as []));
    }
  }
}
