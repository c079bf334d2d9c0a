import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolClient, type PoolConfig } from 'pg';

export const PG_POOL_CONFIG = Symbol('PG_POOL_CONFIG');

/** pg's error for a statement that got no answer within `query_timeout` (the client's own timer). */
export function isReadTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Query read timeout';
}

/** Runs statements: the pool (each on any connection) or one transaction's connection. */
export interface SqlExecutor {
  rows<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  prepared<T = Record<string, unknown>>(name: string, text: string, params: unknown[]): Promise<T[]>;
}

/** The statements of one transaction, on its connection. */
class TransactionSql implements SqlExecutor {
  constructor(private readonly client: PoolClient) {}

  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query(text, params)).rows as T[];
  }

  async prepared<T>(name: string, text: string, params: unknown[]): Promise<T[]> {
    return (await this.client.query({ name, text, values: params })).rows as T[];
  }
}

/**
 * Plain SQL on a pg pool of the application's own (documented `pg` API). Repositories use it for
 * their statements; TypeORM keeps its own small pool for migrations.
 * Every connection has `statement_timeout` set, so no request waits on a lock or a slow query longer
 * than that, the same `query_timeout` on the client's side, so a server that falls silent cannot hold
 * a request either, and TCP keepalive.
 */
@Injectable()
export class Sql implements OnApplicationShutdown, SqlExecutor {
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

  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled back when
   * it throws (the error is passed on). Repositories take the executor it hands out.
   */
  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(new TransactionSql(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      // A statement that got no answer in time leaves a connection that may never answer again.
      if (isReadTimeout(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch((rollbackFailed: Error) => (broken = rollbackFailed));
      throw err;
    } finally {
      // A connection whose rollback failed is in an unknown state: destroyed, not reused.
      client.release(broken);
    }
  }

  /**
   * Resolves when a connection of the pool answers a statement within `timeoutMs` (checkout included),
   * rejects otherwise. A statement that lost the race still ends by `query_timeout`, and its
   * connection with it.
   */
  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
    try {
      await Promise.race([this.pool.query('SELECT 1'), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
