import { Injectable } from '@nestjs/common';
import { WechatServerApi } from '../wechat/wechat-server-api';
import { WechatBadResponseError, WechatUnavailableError } from '../wechat/wechat.errors';

export type Suggest = 'pass' | 'review' | 'risky';
export const SUGGESTS: readonly Suggest[] = ['pass', 'review', 'risky'];

export interface TextVerdict {
  suggest: Suggest;
  label: string;
  traceId: string;
}

export const MSG_SEC_CHECK_PATH = '/wxa/msg_sec_check';
export const MEDIA_CHECK_ASYNC_PATH = '/wxa/media_check_async';
/** `scene` of both checks: 1 = profile (nickname, avatar). */
const SCENE_PROFILE = 1;
/** `media_type` 2 = image. */
const MEDIA_IMAGE = 2;

/**
 * WeChat's content security checks (v2), through the access-token machinery of WechatServerApi.
 * A check that could not be made is a 503 WECHAT_UNAVAILABLE whatever went wrong upstream (an odd
 * answer included): the caller's content was not judged, and trying again later is the only advice.
 */
@Injectable()
export class ContentSecurityClient {
  constructor(private readonly serverApi: WechatServerApi) {}

  /** `msg_sec_check`: synchronous verdict on a text (a nickname) written by `openId`, the user's openid in the mini program `appId`. */
  async checkText(appId: string, content: string, openId: string): Promise<TextVerdict> {
    const body = await unavailableOnOddAnswer(() =>
      this.serverApi.call<{ result?: { suggest?: unknown; label?: unknown }; trace_id?: unknown }>(appId, {
        method: 'POST',
        path: MSG_SEC_CHECK_PATH,
        body: { content, version: 2, scene: SCENE_PROFILE, openid: openId },
      }),
    );
    const suggest = body.result?.suggest;
    if (typeof suggest !== 'string' || !SUGGESTS.includes(suggest as Suggest)) throw new WechatUnavailableError('msg_sec_check answer lacks result.suggest');
    return { suggest: suggest as Suggest, label: labelOf(body.result?.label), traceId: traceIdOf(body.trace_id, 'msg_sec_check') };
  }

  /** `media_check_async`: WeChat fetches `mediaUrl` and pushes its verdict later (`wxa_media_check`) to the push route of `appId`. */
  async checkImageAsync(appId: string, mediaUrl: string, openId: string): Promise<{ traceId: string }> {
    const body = await unavailableOnOddAnswer(() =>
      this.serverApi.call<{ trace_id?: unknown }>(appId, {
        method: 'POST',
        path: MEDIA_CHECK_ASYNC_PATH,
        body: { media_url: mediaUrl, media_type: MEDIA_IMAGE, version: 2, scene: SCENE_PROFILE, openid: openId },
      }),
    );
    return { traceId: traceIdOf(body.trace_id, 'media_check_async') };
  }
}

async function unavailableOnOddAnswer<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WechatBadResponseError) throw new WechatUnavailableError(`content check failed (${err.message})`, err);
    throw err;
  }
}

/** Labels are numbers in WeChat's documents and strings in some answers; stored as text. */
export function labelOf(label: unknown): string {
  const text = typeof label === 'number' || typeof label === 'string' ? String(label) : '';
  return /^[\w.-]{1,32}$/.test(text) ? text : 'unknown';
}

function traceIdOf(value: unknown, api: string): string {
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(value)) throw new WechatUnavailableError(`${api} answer lacks a usable trace_id`);
  return value;
}
