import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AvatarStore } from '../avatars/avatar.store';
import { InjectAvatarSettings } from '../config/config.module';
import type { AvatarSettings } from '../config/profile-settings';
import { ContentSecurityClient, labelOf, SUGGESTS, type Suggest } from '../content-security/content-security.client';
import { type MediaCheckVerdict, type MediaCheckVerdictHandler, MediaCheckVerdicts } from '../push/media-check-verdicts';
import { openIdIn, UserDto } from '../users/dto/user.dto';
import { UsersService } from '../users/users.service';
import { AvatarReviewRepository, type PendingCheck, type VerdictSource } from './avatar-review.repository';

/** What a verdict did: the avatar became the user's, was discarded, was no longer wanted, or nothing. */
export type VerdictOutcome = 'approved' | 'rejected' | 'superseded' | 'duplicate' | 'unknown' | 'other_app';

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
    private readonly reviews: AvatarReviewRepository,
    @InjectAvatarSettings() private readonly settings: AvatarSettings,
    private readonly verdicts: MediaCheckVerdicts,
  ) {}

  /** The push receiver hands every `wxa_media_check` verdict (retries already deduplicated) to us. */
  onModuleInit(): void {
    this.verdicts.register(this);
  }

  /** Outcome for the push audit row, e.g. `avatar_approved`. Throws (→ 503, WeChat retries) only when the database fails. */
  async onMediaCheckVerdict(verdict: MediaCheckVerdict): Promise<string> {
    const from = { appId: verdict.appId, openId: verdict.openId };
    return `avatar_${await this.applyVerdict({ trace_id: verdict.traceId, result: { suggest: verdict.suggest, label: verdict.label } }, from)}`;
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
      const openId = openIdIn(user, appId);
      const { traceId } = await this.security.checkImageAsync(appId, mediaUrl, openId);
      return { traceId, mediaUrl, avatarId, askedAs: { appId, openId } };
    } catch (err) {
      if (avatarId) await this.avatars.delete(avatarId).catch(() => undefined);
      throw err;
    }
  }

  /** Records the started check and makes its image the pending avatar (superseding an earlier one). */
  async markPending(user: UserDto, check: PendingCheck): Promise<UserDto> {
    const { traceId, avatarId } = check;
    const { row, deletedImages } = await this.reviews.markPending(user.id, check);
    this.avatars.evict(deletedImages);
    const dto = await this.users.rememberRow(row); // cached once committed; the cache keeps only the newest revision
    this.logger.log({ userId: user.id, traceId, uploaded: Boolean(avatarId) }, 'avatar sent to the image check');
    return dto;
  }

  /** Drops a pending avatar and every stored image but the approved one (the user cleared the avatar). */
  async clearPending(userId: number): Promise<void> {
    this.avatars.evict(await this.reviews.clearPending(userId));
  }

  /**
   * Applies a `wxa_media_check` verdict. Idempotent: a push WeChat retries finds its check decided
   * and changes nothing. Throws only when the database fails (the push must then not be acknowledged).
   * `from`: the mini program whose push route received it (and the openid it names): a check is decided
   * only by a verdict of the app it was made for, to its user there (`other_app` otherwise).
   */
  async applyVerdict(event: MediaCheckEvent, from?: VerdictSource): Promise<VerdictOutcome> {
    const traceId = typeof event.trace_id === 'string' ? event.trace_id : undefined;
    const suggest = event.result?.suggest;
    if (!traceId || typeof suggest !== 'string' || !SUGGESTS.includes(suggest as Suggest)) {
      this.logger.warn({ traceId: traceId?.slice(0, 128) }, 'wxa_media_check without trace_id or result.suggest: ignored');
      return 'unknown';
    }
    const label = labelOf(event.result?.label);
    const deadline = Date.now() + UNKNOWN_TRACE_WAIT_MS;
    for (;;) {
      const outcome = await this.decide(traceId, suggest as Suggest, label, from);
      if (outcome !== 'unknown' || Date.now() >= deadline) {
        this.logger.log({ traceId, suggest, label, outcome }, `image check verdict ${suggest}: ${outcome}`);
        return outcome;
      }
      await sleep(UNKNOWN_TRACE_POLL_MS);
    }
  }

  private async decide(traceId: string, suggest: Suggest, label: string, from: VerdictSource | undefined): Promise<VerdictOutcome> {
    const { outcome, row, deletedImages } = await this.reviews.decide(traceId, suggest, label, from);
    this.avatars.evict(deletedImages);
    // Cached once committed; the cache keeps only the newest revision, whoever writes last.
    if (row) await this.users.rememberRow(row);
    return outcome;
  }
}
