import type { DataSource } from 'typeorm';

/**
 * Runs an `UPDATE … RETURNING` and gives its rows. TypeORM's PostgreSQL driver answers UPDATE and
 * DELETE with `[rows, rowCount]` (other statements with the rows alone), which is easy to misread.
 */
export async function updateReturning<T>(db: DataSource, sql: string, params: unknown[]): Promise<T[]> {
  const [rows] = (await db.query(sql, params)) as [T[], number];
  return rows;
}
