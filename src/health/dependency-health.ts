import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppCache } from '../cache/app-cache';
import { Sql } from '../database/sql';

/** How long the database probe may take, the pool checkout included. */
const DATABASE_PING_TIMEOUT_MS = 1500;

/** The service's dependencies, each probed the way requests use it. */
@Injectable()
export class DependencyHealth {
  constructor(
    private readonly sql: Sql,
    private readonly appCache: AppCache,
    private readonly indicator: HealthIndicatorService,
  ) {}

  /**
   * The pool the requests use answers a statement. Not TypeORM's pool (migrations only): a request
   * pool whose connections fell silent must show here, or a load balancer keeps sending traffic.
   */
  database() {
    return this.probe('database', async () => {
      await this.sql.ping(DATABASE_PING_TIMEOUT_MS);
      return undefined;
    });
  }

  /** The cache answers a write and a read (always true for the memory cache; Redis may be away). */
  cache() {
    return this.probe('cache', async () => ((await this.appCache.ping()) ? undefined : 'read back a different value'));
  }

  /** `check` resolves to what is wrong, if anything; throwing means the dependency cannot be reached. */
  private async probe(key: string, check: () => Promise<string | undefined>) {
    const result = this.indicator.check(key);
    try {
      const problem = await check();
      return problem === undefined ? result.up() : result.down({ message: problem });
    } catch {
      return result.down({ message: 'unreachable' });
    }
  }
}
