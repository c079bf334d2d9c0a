import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolConfig } from 'pg';

export const PG_POOL_CONFIG = Symbol('PG_POOL_CONFIG');

/**
 * Plain SQL on a pg pool of the application's own (documented `pg` API). Repositories use it for
 * their statements; TypeORM keeps its own small pool for migrations and the health check.
 * Every connection has `statement_timeout` set, so no request waits on a lock or a slow query longer
 * than that, and TCP keepalive, so a vanished server is noticed.
 */
@Injectable()
export class Sql implements OnApplicationShutdown {
  private readonly pool: Pool;

  constructor(@Inject(PG_POOL_CONFIG) config: PoolConfig) {
    this.pool = new Pool(config);
    // An idle client losing its connection emits 'error' on the pool; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  /** The rows of one statement (including `UPDATE … RETURNING`). */
  async rows<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(text, params)).rows as T[];
  }

  /**
   * The same for a statement of fixed text that runs on every request: named, so each connection
   * parses and plans it once and afterwards sends only the parameters.
   */
  async prepared<T = Record<string, unknown>>(name: string, text: string, params: unknown[]): Promise<T[]> {
    return (await this.pool.query({ name, text, values: params })).rows as T[];
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
