import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Sql } from '../database/sql';

/** How long the probe may take, the pool checkout included. */
const PING_TIMEOUT_MS = 1500;

/**
 * The pool the requests use answers a statement. Not TypeORM's pool (migrations only): a request
 * pool whose connections fell silent must show here, or a load balancer keeps sending traffic.
 */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly sql: Sql,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async isHealthy(key = 'database') {
    const check = this.indicator.check(key);
    try {
      await this.sql.ping(PING_TIMEOUT_MS);
      return check.up();
    } catch {
      return check.down({ message: 'unreachable' });
    }
  }
}
