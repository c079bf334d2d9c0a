import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { AvatarStore } from '../avatars/avatar.store';
import { UnauthorizedError } from '../common/errors/app-error';
import { InjectAvatarSettings } from '../config/config.module';
import type { AvatarSettings } from '../config/profile-settings';
import { ContentSecurityClient, labelOf, SUGGESTS, type Suggest } from '../content-security/content-security.client';
import { type MediaCheckVerdict, type MediaCheckVerdictHandler, MediaCheckVerdicts } from '../push/media-check-verdicts';
import { openIdIn, UserDto } from '../users/dto/user.dto';
import { WECHAT_USER_COLUMNS } from '../users/wechat-user.repository';
import { UsersService } from '../users/users.service';

/** An image check WeChat accepted, not yet recorded. */
export interface PendingCheck {
  traceId: string;
  mediaUrl: string;
  avatarId?: string;
}

/** What a verdict did: the avatar became the user's, was discarded, was no longer wanted, or nothing. */
export type VerdictOutcome = 'approved' | 'rejected' | 'superseded' | 'duplicate' | 'unknown';

/** A `wxa_media_check` push, as WeChat sends it (JSON, or XML parsed to the same names). */
export interface MediaCheckEvent {
  trace_id?: unknown;
  result?: { suggest?: unknown; label?: unknown };
}

/**
 * A verdict may arrive before the request that started the check has written its row (WeChat is
 * fast, the sandbox faster): an unknown trace_id is looked for again for this long.
 */
const UNKNOWN_TRACE_WAIT_MS = 2000;
const UNKNOWN_TRACE_POLL_MS = 100;

/**
 * The avatar side of WeChat's content checks. An avatar (an upload, or a URL given in PATCH) is
 * sent to `media_check_async` and becomes `avatar_pending_url`; the verdict, keyed by trace_id,
 * makes it the user's `avatar_url` (pass, review) or discards it (risky: the image is deleted and
 * the previous avatar stays). Only the newest pending avatar can win: a verdict on one that was
 * replaced meanwhile is recorded and its image dropped.
 */
@Injectable()
export class AvatarReviewService implements MediaCheckVerdictHandler, OnModuleInit {
  private readonly logger = new Logger(AvatarReviewService.name);

  constructor(
    private readonly security: ContentSecurityClient,
    private readonly avatars: AvatarStore,
    private readonly users: UsersService,
    @InjectDataSource() private readonly db: DataSource,
    @InjectAvatarSettings() private readonly settings: AvatarSettings,
    private readonly verdicts: MediaCheckVerdicts,
  ) {}

  /** The push receiver hands every `wxa_media_check` verdict (retries already deduplicated) to us. */
  onModuleInit(): void {
    this.verdicts.register(this);
  }

  /** Outcome for the push audit row, e.g. `avatar_approved`. Throws (→ 503, WeChat retries) only when the database fails. */
  async onMediaCheckVerdict(verdict: MediaCheckVerdict): Promise<string> {
    return `avatar_${await this.applyVerdict({ trace_id: verdict.traceId, result: { suggest: verdict.suggest, label: verdict.label } })}`;
  }

  /** The URL WeChat (and everyone else) fetches a stored avatar from. */
  urlOf(avatarId: string): string {
    return `${this.settings.publicBaseUrl}/avatars/${avatarId}`;
  }

  /**
   * Sends the avatar to the image check and makes it the pending one. When the check cannot be
   * started, nothing changes (and an uploaded image is deleted): the caller gets the error.
   */
  async submit(user: UserDto, appId: string, mediaUrl: string, avatarId?: string): Promise<UserDto> {
    return this.markPending(user, await this.start(user, appId, mediaUrl, avatarId));
  }

  /**
   * Asks WeChat to check the image, as the mini program `appId` (the caller's) for the user's openid
   * there; nothing is written yet (an uploaded image is deleted if this fails).
   */
  async start(user: UserDto, appId: string, mediaUrl: string, avatarId?: string): Promise<PendingCheck> {
    try {
      const { traceId } = await this.security.checkImageAsync(appId, mediaUrl, openIdIn(user, appId));
      return { traceId, mediaUrl, avatarId };
    } catch (err) {
      if (avatarId) await this.avatars.delete(avatarId).catch(() => undefined);
      throw err;
    }
  }

  /** Records the started check and makes its image the pending avatar (superseding an earlier one). */
  async markPending(user: UserDto, { traceId, mediaUrl, avatarId }: PendingCheck): Promise<UserDto> {
    const dto = await this.transaction(async (query) => {
      await query(`INSERT INTO "content_check" ("user_id", "kind", "trace_id", "verdict", "media_url", "avatar_id") VALUES ($1, 'avatar', $2, 'pending', $3, $4)`, [
        user.id,
        traceId,
        mediaUrl,
        avatarId ?? null,
      ]);
      // An earlier upload still waiting is superseded: its image goes now.
      const superseded = await query(
        `DELETE FROM "avatar_image" WHERE "id" IN (SELECT "avatar_id" FROM "content_check" WHERE "user_id" = $1 AND "verdict" = 'pending' AND "avatar_id" IS NOT NULL AND "trace_id" <> $2) RETURNING "id"`,
        [user.id, traceId],
      );
      this.avatars.evict(superseded.map((r) => r.id));
      const rows = await query(`UPDATE "wechat_user" SET "avatar_pending_url" = $2, "updated_at" = now() WHERE "id" = $1 AND "deleted_at" IS NULL RETURNING ${WECHAT_USER_COLUMNS}`, [
        user.id,
        mediaUrl,
      ]);
      if (!rows[0]) throw new UnauthorizedError('User no longer exists');
      return rows[0];
    }).then((row) => this.users.rememberRow(row)); // cached once committed; the cache keeps only the newest revision
    this.logger.log({ userId: user.id, traceId, uploaded: Boolean(avatarId) }, 'avatar sent to the image check');
    return dto;
  }

  /** Drops a pending avatar and every stored image but the approved one (the user cleared the avatar). */
  async clearPending(userId: number): Promise<void> {
    await this.transaction(async (query) => {
      await query(`UPDATE "wechat_user" SET "avatar_pending_url" = NULL WHERE "id" = $1`, [userId]);
      const deleted = await query(`DELETE FROM "avatar_image" WHERE "user_id" = $1 RETURNING "id"`, [userId]);
      this.avatars.evict(deleted.map((r) => r.id));
    });
  }

  /**
   * Applies a `wxa_media_check` verdict. Idempotent: a push WeChat retries finds its check decided
   * and changes nothing. Throws only when the database fails (the push must then not be acknowledged).
   */
  async applyVerdict(event: MediaCheckEvent): Promise<VerdictOutcome> {
    const traceId = typeof event.trace_id === 'string' ? event.trace_id : undefined;
    const suggest = event.result?.suggest;
    if (!traceId || typeof suggest !== 'string' || !SUGGESTS.includes(suggest as Suggest)) {
      this.logger.warn({ traceId: traceId?.slice(0, 128) }, 'wxa_media_check without trace_id or result.suggest: ignored');
      return 'unknown';
    }
    const label = labelOf(event.result?.label);
    const deadline = Date.now() + UNKNOWN_TRACE_WAIT_MS;
    for (;;) {
      const outcome = await this.decide(traceId, suggest as Suggest, label);
      if (outcome !== 'unknown' || Date.now() >= deadline) {
        this.logger.log({ traceId, suggest, label, outcome }, `image check verdict ${suggest}: ${outcome}`);
        return outcome;
      }
      await sleep(UNKNOWN_TRACE_POLL_MS);
    }
  }

  private async decide(traceId: string, suggest: Suggest, label: string): Promise<VerdictOutcome> {
    const result = await this.transaction(async (query) => {
      const [check] = await query(
        `UPDATE "content_check" SET "verdict" = $2, "label" = $3, "decided_at" = now()
         WHERE "trace_id" = $1 AND "kind" = 'avatar' AND "verdict" = 'pending' RETURNING "user_id", "media_url", "avatar_id"`,
        [traceId, suggest, label],
      );
      if (!check) {
        // Still pending here means its row was committed between the two statements: look again.
        const [known] = await query(`SELECT "verdict" FROM "content_check" WHERE "trace_id" = $1`, [traceId]);
        return { outcome: known && known.verdict !== 'pending' ? ('duplicate' as const) : ('unknown' as const) };
      }
      const userId = Number(check.user_id);
      if (suggest === 'risky') {
        if (check.avatar_id) await query(`DELETE FROM "avatar_image" WHERE "id" = $1`, [check.avatar_id]);
        this.avatars.evict([check.avatar_id]);
        const [row] = await query(`UPDATE "wechat_user" SET "avatar_pending_url" = NULL, "updated_at" = now() WHERE "id" = $1 AND "avatar_pending_url" = $2 RETURNING ${WECHAT_USER_COLUMNS}`, [
          userId,
          check.media_url,
        ]);
        return { outcome: 'rejected' as const, row };
      }
      const [row] = await query(
        `UPDATE "wechat_user" SET "avatar_url" = $2, "avatar_pending_url" = NULL, "updated_at" = now()
         WHERE "id" = $1 AND "avatar_pending_url" = $2 AND "deleted_at" IS NULL RETURNING ${WECHAT_USER_COLUMNS}`,
        [userId, check.media_url],
      );
      if (!row) {
        if (check.avatar_id) await query(`DELETE FROM "avatar_image" WHERE "id" = $1`, [check.avatar_id]);
        this.avatars.evict([check.avatar_id]);
        return { outcome: 'superseded' as const };
      }
      // The new avatar replaces the old: earlier uploads of this user are no longer shown anywhere.
      const replaced = await query(`DELETE FROM "avatar_image" WHERE "user_id" = $1 AND "id" <> $2 RETURNING "id"`, [userId, check.avatar_id ?? '']);
      this.avatars.evict(replaced.map((r) => r.id));
      return { outcome: 'approved' as const, row };
    });
    // Cached once committed; the cache keeps only the newest revision, whoever writes last.
    if ('row' in result && result.row) await this.users.rememberRow(result.row);
    return result.outcome;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- driver rows are untyped
  private async transaction<T>(work: (query: (text: string, params: unknown[]) => Promise<any[]>) => Promise<T>): Promise<T> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const result = await work(async (text, params) => (await runner.query(text, params, true)).records);
      await runner.commitTransaction();
      return result;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }
}
