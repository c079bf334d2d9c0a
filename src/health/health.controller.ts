import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators/public.decorator';
import { CacheHealthIndicator } from './cache.health';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly cache: CacheHealthIndicator,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness and readiness: 503 when the database or the cache cannot be reached' })
  @ApiOkResponse({ schema: { example: { status: 'ok', info: { database: { status: 'up' }, cache: { status: 'up' } } } } })
  @ApiServiceUnavailableResponse({
    schema: { example: { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: 'database is down', status: 'error', error: { database: { status: 'down' } } } },
  })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<object> {
    try {
      const result = await this.health.check([() => this.db.pingCheck('database', { timeout: 1500 }), () => this.cache.isHealthy('cache')]);
      return { status: result.status, info: result.info };
    } catch (err) {
      const details = (err as { getResponse?: () => { error?: object } }).getResponse?.();
      const down = Object.keys(details?.error ?? { database: 1 });
      void reply.status(503);
      return { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: `${down.join(', ')} is down`, status: 'error', error: details?.error ?? {} };
    }
  }
}
