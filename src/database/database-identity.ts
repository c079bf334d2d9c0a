import { createHash } from 'node:crypto';

export const DATABASE_IDENTITY = Symbol('DATABASE_IDENTITY');

/**
 * A short tag naming the database (host, port, name; never the credentials). Cached rows of one
 * database are kept under it, so deployments that share one Redis (staging and production, or test
 * databases) never read each other's users, whose ids overlap.
 */
export function databaseIdentity(url: string): string {
  const u = new URL(url);
  return createHash('sha256')
    .update(`${u.hostname}:${u.port || '5432'}/${decodeURIComponent(u.pathname.slice(1))}`)
    .digest('hex')
    .slice(0, 12);
}
