import { Global, Injectable, Module } from '@nestjs/common';

/** WeChat's verdict on an image sent to `media_check_async`, from the `wxa_media_check` push. */
export interface MediaCheckVerdict {
  /** The mini program the check ran for (`appid` of the push, else ours). */
  appId: string;
  /** The `trace_id` media_check_async answered with: match the check by it. */
  traceId: string;
  /** The user the check was made for (`FromUserName`). */
  openId: string | undefined;
  /** `result.suggest`: `pass`, `review` or `risky` (undefined when WeChat sent none). */
  suggest: string | undefined;
  /** `result.label` (100 = normal; others name the category). */
  label: string | undefined;
  /** The whole decrypted push (`detail`, `errcode`, `version`, …), read-only. */
  message: Readonly<Record<string, unknown>>;
}

/**
 * Implemented by the avatar flow. Called once per verdict: WeChat's retries of the push are
 * deduplicated before it. Throwing makes the push answer 503 and stay unhandled, so WeChat
 * retries it; return a short outcome (≤ 32 characters, e.g. `avatar_applied`) for the audit row.
 */
export interface MediaCheckVerdictHandler {
  onMediaCheckVerdict(verdict: MediaCheckVerdict): Promise<string | void>;
}

/**
 * Where the avatar flow plugs into the push receiver, without either module importing the other:
 * inject this (it is global) and call `register(handler)` once, e.g. in `onModuleInit`. Until a
 * handler is registered, verdicts are only recorded.
 */
@Injectable()
export class MediaCheckVerdicts {
  private handler: MediaCheckVerdictHandler | undefined;

  register(handler: MediaCheckVerdictHandler): void {
    if (this.handler && this.handler !== handler) throw new Error('A MediaCheckVerdictHandler is already registered');
    this.handler = handler;
  }

  /** The outcome to record: the handler's, or `recorded` when there is none. */
  async dispatch(verdict: MediaCheckVerdict): Promise<string> {
    if (!this.handler) return 'recorded';
    return (await this.handler.onMediaCheckVerdict(verdict)) || 'verdict_handled';
  }
}

@Global()
@Module({ providers: [MediaCheckVerdicts], exports: [MediaCheckVerdicts] })
export class PushHooksModule {}
