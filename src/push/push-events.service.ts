import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, ServiceUnavailableError } from '../common/errors/app-error';
import { UsersService } from '../users/users.service';
import { HandledPushMessages, type PushResult } from './handled-push-message.repository';
import { MediaCheckVerdicts } from './media-check-verdicts';
import { auditText, dedupKey, type PushMessage, readPushMessage, revokeCodes } from './push-message';

/** RevokeInfo codes whose withdrawal means: delete nickname and avatar (6 昵称和头像, 19 键盘昵称, 20 头像组件). */
const PROFILE_CODES = new Set(['6', '19', '20']);
/** RevokeInfo code of the phone number. */
const MOBILE_CODE = '8';
/** How long a retry waits for an attempt of the same message still in flight (WeChat gives up at 5 s). */
const WAIT_FOR_IN_FLIGHT_MS = 3000;
const OPENID = /^[\w-]{1,64}$/;

/**
 * What each push does to the data (see README › WeChat message push), each message at most once,
 * acting on the identity (openid) of the mini program whose route received it:
 * claim it in `wechat_push_message`, do the work, record the outcome. A failure anywhere releases
 * the claim and answers 503, so WeChat retries and nothing is reported done that was not.
 */
@Injectable()
export class PushEventsService {
  private readonly logger = new Logger('WechatPush');

  constructor(
    private readonly handled: HandledPushMessages,
    private readonly users: UsersService,
    private readonly verdicts: MediaCheckVerdicts,
  ) {}

  /**
   * Handles a verified, decrypted message received on the push route of the mini program `appId`.
   * Resolves once its effects are stored (or were before).
   */
  async handle(raw: Record<string, unknown>, appId: string): Promise<{ duplicate: boolean; outcome?: string }> {
    const message = readPushMessage(raw);
    const record = {
      dedupKey: dedupKey(message, appId),
      // The route's app, which authenticated the message (an AppID inside naming another is in `detail`).
      appId,
      msgType: auditText(message.msgType, 32),
      event: auditText(message.event, 64),
      openId: auditText(message.openId ?? message.fromUserName, 64),
      wechatCreatedAt: createdAt(message.createTime),
    };

    const deadline = Date.now() + WAIT_FOR_IN_FLIGHT_MS;
    for (;;) {
      const claim = await this.handled.claim(record).catch((err) => {
        throw unavailable(err);
      });
      if (!claim.claimed && claim.state === 'done') return { duplicate: true };
      if (claim.claimed) {
        try {
          const result = await this.apply(message, appId);
          await this.handled.complete(claim.id, result);
          this.logger.log({ event: record.event, msgType: record.msgType, outcome: result.outcome, userId: result.userId ?? null }, 'push handled');
          return { duplicate: false, outcome: result.outcome };
        } catch (err) {
          const e = err as { name?: string; code?: string; message?: string };
          this.logger.error({ err: { type: e?.name, code: e?.code, message: e?.message }, event: record.event }, 'push handling failed; WeChat will retry it');
          await this.handled.release(claim.id).catch(() => undefined);
          throw unavailable(err);
        }
      }
      if (Date.now() > deadline) throw new ServiceUnavailableError('Handling of this push (still in progress)');
      await sleep(50);
    }
  }

  private async apply(m: PushMessage, appId: string): Promise<PushResult> {
    if (m.appId && m.appId !== appId) return { outcome: 'other_app', detail: { appId: auditText(m.appId, 64) } };
    switch (m.event) {
      case 'user_authorization_revoke': {
        const codes = revokeCodes(m.revokeInfo);
        const profile = codes.some((c) => PROFILE_CODES.has(c));
        const mobile = codes.includes(MOBILE_CODE);
        const detail = { revokeInfo: codes.slice(0, 20).map((c) => auditText(c, 8)) };
        if (!profile && !mobile) return this.record(m, appId, detail);
        return this.erase(m, appId, { profile, mobile }, detail);
      }
      case 'user_info_modified':
        return this.erase(m, appId, { profile: true }, {});
      case 'user_authorization_cancellation': {
        const user = await this.findUser(m, appId);
        if (!user) return { outcome: 'user_not_found' };
        const deleted = await this.users.deleteAccount(user.id);
        return { outcome: deleted ? 'account_deleted' : 'already_deleted', userId: user.id };
      }
      case 'wxa_media_check':
        return this.mediaCheck(m, appId);
      default:
        return this.record(m, appId);
    }
  }

  /** A message that changes nothing: recorded, with the user it names when that is a known identity of the app (for the audit trail). */
  private async record(m: PushMessage, appId: string, detail?: Record<string, unknown>): Promise<PushResult> {
    const user = await this.findUser(m, appId);
    return { outcome: 'recorded', userId: user?.id ?? null, ...(detail ? { detail } : {}) };
  }

  private async erase(m: PushMessage, appId: string, what: { profile?: boolean; mobile?: boolean }, detail: Record<string, unknown>): Promise<PushResult> {
    const cleared = [...(what.profile ? ['nickname', 'avatarUrl'] : []), ...(what.mobile ? ['mobile'] : [])];
    const user = await this.findUser(m, appId);
    if (!user) return { outcome: 'user_not_found', detail };
    if (user.deleted) return { outcome: 'already_deleted', userId: user.id, detail };
    const erased = await this.users.erase(user.id, what);
    return { outcome: erased ? 'data_cleared' : 'already_deleted', userId: user.id, detail: { ...detail, cleared } };
  }

  private async mediaCheck(m: PushMessage, appId: string): Promise<PushResult> {
    const result = m.fields.result as Record<string, unknown> | undefined;
    const suggest = typeof result?.suggest === 'string' ? result.suggest : undefined;
    const label = typeof result?.label === 'string' || typeof result?.label === 'number' ? String(result.label) : undefined;
    const detail = { traceId: auditText(m.traceId, 128), suggest: auditText(suggest, 16), label: auditText(label, 16) };
    if (!m.traceId) return { outcome: 'recorded', detail };
    const user = m.fromUserName && OPENID.test(m.fromUserName) ? await this.users.findIdByIdentity(appId, m.fromUserName) : undefined;
    // The route's app, which authenticated the message; an `appid` inside naming another is not believed.
    if (m.appId !== undefined && m.appId !== appId) return { outcome: 'other_app', userId: user?.id ?? null, detail };
    const outcome = await this.verdicts.dispatch({ appId, traceId: m.traceId, openId: m.fromUserName, suggest, label, message: m.fields });
    return { outcome: auditText(outcome, 32) ?? 'verdict_handled', userId: user?.id ?? null, detail };
  }

  /** The user whose identity in the app is named by `OpenID`, else by `FromUserName` (an openid of WeChat's shape only). */
  private async findUser(m: PushMessage, appId: string): Promise<{ id: number; deleted: boolean } | undefined> {
    const openId = m.openId ?? m.fromUserName;
    if (!openId || !OPENID.test(openId)) return undefined;
    return this.users.findIdByIdentity(appId, openId);
  }
}

function createdAt(createTime: string | undefined): Date | null {
  if (!createTime || !/^\d{1,11}$/.test(createTime)) return null;
  return new Date(Number(createTime) * 1000);
}

/** Any failure while handling is a 503: WeChat retries, and the message stays unhandled. */
function unavailable(err: unknown): AppError {
  if (err instanceof AppError && err.status === 503) return err;
  return new ServiceUnavailableError('Push handling', err);
}
