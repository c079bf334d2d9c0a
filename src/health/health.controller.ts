import { Controller, Get, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators/public.decorator';
import { POLLED_ROUTE } from '../common/http/request-logging';
import { DependencyHealth } from './dependency-health';

/** Load balancers poll health often: one real check per second at most, shared by every caller. */
const CHECK_INTERVAL_MS = 1000;

interface HealthAnswer {
  status: number;
  body: object;
}

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  private last?: { at: number; answer: Promise<HealthAnswer> };

  constructor(
    private readonly health: HealthCheckService,
    private readonly dependencies: DependencyHealth,
  ) {}

  @Get()
  @RouteConfig(POLLED_ROUTE)
  @ApiOperation({
    summary: 'Liveness and readiness: 503 when the database or the cache cannot be reached',
    description: 'Checked at most once a second; every caller in that second gets the same answer.',
  })
  @ApiOkResponse({
    description: 'The database and the cache answer',
    schema: {
      type: 'object',
      required: ['status', 'info'],
      properties: {
        status: { type: 'string', enum: ['ok'], description: 'Always `ok` with 200' },
        info: { type: 'object', description: 'Each checked dependency and its state', additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['up'] } } } },
      },
      example: { status: 'ok', info: { database: { status: 'up' }, cache: { status: 'up' } } },
    },
  })
  @ApiServiceUnavailableResponse({
    description: 'SERVICE_UNAVAILABLE: the database or the cache does not answer',
    schema: {
      allOf: [
        { $ref: '#/components/schemas/ErrorResponse' },
        {
          type: 'object',
          required: ['status', 'error'],
          properties: {
            code: { type: 'string', enum: ['SERVICE_UNAVAILABLE'] },
            status: { type: 'string', enum: ['error'], description: 'Always `error` with 503' },
            error: { type: 'object', description: 'Each dependency that is down, and its state', additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['down'] } } } },
          },
        },
      ],
      example: { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: 'database is down', status: 'error', error: { database: { status: 'down' } } },
    },
  })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<object> {
    const now = Date.now();
    if (!this.last || now - this.last.at >= CHECK_INTERVAL_MS) this.last = { at: now, answer: this.run() };
    const { status, body } = await this.last.answer;
    void reply.status(status);
    return body;
  }

  private async run(): Promise<HealthAnswer> {
    try {
      const result = await this.health.check([() => this.dependencies.database(), () => this.dependencies.cache()]);
      return { status: 200, body: { status: result.status, info: result.info } };
    } catch (err) {
      const details = (err as { getResponse?: () => { error?: object } }).getResponse?.();
      const down = Object.keys(details?.error ?? { database: 1 });
      return { status: 503, body: { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: `${down.join(', ')} is down`, status: 'error', error: details?.error ?? {} } };
    }
  }
}
