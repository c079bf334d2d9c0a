import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';

/**
 * Plain SQL on the pg pool that TypeORM's DataSource owns. The hot paths (login upsert, profile
 * reads, token versions) are single statements; sending them straight to the pool skips TypeORM's
 * per-query QueryRunner (a pool checkout, a release and their bookkeeping around every statement).
 * TypeORM still owns the connection, the entities and the migrations.
 */
@Injectable()
export class Sql {
  private readonly pool: Pool;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.pool = (dataSource.driver as unknown as { master: Pool }).master;
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
}
