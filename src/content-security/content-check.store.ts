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
  /** The mini program the check was asked as, and the user's openid there. */
  appId?: string | null;
  openId?: string | null;
}

/** Table `content_check`: every content check of a user, its trace_id and verdict (the audit trail). */
@Injectable()
export class ContentCheckStore {
  constructor(private readonly sql: Sql) {}

  async record(check: ContentCheckRecord): Promise<void> {
    await this.sql.rows(
      `INSERT INTO "content_check" ("user_id", "kind", "trace_id", "verdict", "label", "media_url", "avatar_id", "app_id", "open_id", "decided_at")
       VALUES ($1, $2, $3, $4::varchar, $5, $6, $7, $8, $9, CASE WHEN $4::varchar = 'pending' THEN NULL ELSE now() END)
       ON CONFLICT ("trace_id") DO NOTHING`,
      [check.userId, check.kind, check.traceId, check.verdict, check.label ?? null, check.mediaUrl ?? null, check.avatarId ?? null, check.appId ?? null, check.openId ?? null],
    );
  }
}
