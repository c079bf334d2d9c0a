import { Injectable } from '@nestjs/common';
import { Sql } from '../database/sql';
import type { Suggest } from './content-security.client';

export type CheckKind = 'nickname' | 'avatar';
export type CheckVerdict = Suggest | 'pending';

export interface ContentCheckRecord {
  userId: number;
  kind: CheckKind;
  traceId: string;
  verdict: CheckVerdict;
  label?: string | null;
  /** Avatar checks: the URL WeChat was asked to judge. */
  mediaUrl?: string | null;
  /** Uploaded avatars: the stored image. */
  avatarId?: string | null;
}

/** Table `content_check`: every content check of a user, its trace_id and verdict (the audit trail). */
@Injectable()
export class ContentCheckStore {
  constructor(private readonly sql: Sql) {}

  async record(check: ContentCheckRecord): Promise<void> {
    await this.sql.rows(
      `INSERT INTO "content_check" ("user_id", "kind", "trace_id", "verdict", "label", "media_url", "avatar_id", "decided_at")
       VALUES ($1, $2, $3, $4::varchar, $5, $6, $7, CASE WHEN $4::varchar = 'pending' THEN NULL ELSE now() END)
       ON CONFLICT ("trace_id") DO NOTHING`,
      [check.userId, check.kind, check.traceId, check.verdict, check.label ?? null, check.mediaUrl ?? null, check.avatarId ?? null],
    );
  }

  /** The checks of a user, newest first. */
  async ofUser(userId: number): Promise<(ContentCheckRecord & { createdAt: Date; decidedAt: Date | null })[]> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- driver rows are untyped; each column is read once below
    const rows = await this.sql.rows<Record<string, any>>(`SELECT * FROM "content_check" WHERE "user_id" = $1 ORDER BY "id" DESC`, [userId]);
    return rows.map((r) => ({
      userId: Number(r.user_id),
      kind: r.kind,
      traceId: r.trace_id,
      verdict: r.verdict,
      label: r.label,
      mediaUrl: r.media_url,
      avatarId: r.avatar_id,
      createdAt: r.created_at,
      decidedAt: r.decided_at,
    }));
  }
}
