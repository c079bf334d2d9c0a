import { randomBytes, randomInt } from 'node:crypto';
import type { WechatAppSettings } from '../config/configuration';
import { buildPushXml } from '../push/push-xml';
import { WechatPushCrypto } from '../push/wechat-push-crypto';

export type PushSendMode = 'plain' | 'compatible' | 'safe';
export type PushFormat = 'xml' | 'json';

export interface PushCredentials {
  token: string;
  /** The 43-character EncodingAESKey (needed for safe and compatible mode). */
  encodingAesKey?: string;
  appId: string;
}

export interface PushOptions {
  mode?: PushSendMode;
  format?: PushFormat;
  /** Unix seconds; default now. */
  timestamp?: number;
  nonce?: string;
}

/** A push exactly as WeChat sends it: the query string to append to the push URL, the body and its type. */
export interface BuiltPush {
  query: Record<string, string>;
  body: string;
  contentType: string;
}

/**
 * The Token and EncodingAESKey of the sandbox: the configured ones, else made up at start (the
 * sandbox plays WeChat, so it only has to agree with itself).
 */
export function sandboxPushCredentials(settings: Pick<WechatAppSettings, 'pushToken' | 'pushAesKey'>): { pushToken: string; pushAesKey: string } {
  return {
    pushToken: settings.pushToken ?? `sbx${randomBytes(12).toString('hex')}`,
    pushAesKey: settings.pushAesKey ?? randomBytes(32).toString('base64').slice(0, 43),
  };
}

/**
 * Signs (and in safe/compatible mode encrypts) a message as WeChat's push service does:
 * plain: `signature`; safe: body `{ToUserName, Encrypt}` + `encrypt_type=aes` + `msg_signature`
 * (and `signature`); compatible: the plain fields and `Encrypt` side by side.
 */
export function buildWechatPush(message: Record<string, unknown>, credentials: PushCredentials, options: PushOptions = {}): BuiltPush {
  const mode = options.mode ?? 'safe';
  const format = options.format ?? 'xml';
  const crypto = new WechatPushCrypto(credentials.token, credentials.encodingAesKey, credentials.appId);
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = options.nonce ?? String(randomInt(1_000_000_000, 2_000_000_000));
  const serialize = (m: Record<string, unknown>) => (format === 'xml' ? buildPushXml(m) : JSON.stringify(m));
  const contentType = format === 'xml' ? 'text/xml' : 'application/json';
  const query: Record<string, string> = { signature: crypto.sign(timestamp, nonce), timestamp, nonce };
  if (mode === 'plain') return { query, body: serialize(message), contentType };

  const encrypt = crypto.encrypt(serialize(message));
  query.encrypt_type = 'aes';
  query.msg_signature = crypto.sign(timestamp, nonce, encrypt);
  const outer = mode === 'safe' ? { ToUserName: message.ToUserName, Encrypt: encrypt } : { ...message, Encrypt: encrypt };
  return { query, body: serialize(outer), contentType };
}

export interface PushDelivery {
  status: number;
  /** What the service answered (`success` when it handled the push). */
  answer: string;
}

/**
 * Sends pushes to a push URL over HTTP, as WeChat does: used by the sandbox (`POST /sandbox/push`,
 * and image-check verdicts) to reach the service's own `POST /wechat/push`.
 */
export class WechatPushSender {
  constructor(
    private readonly credentials: PushCredentials,
    /** The push URL, e.g. `http://127.0.0.1:3000/wechat/push` (resolved at each send). */
    private readonly url: () => string,
    private readonly defaults: PushOptions = { mode: 'safe', format: 'xml' },
  ) {}

  async send(message: Record<string, unknown>, options: PushOptions = {}): Promise<PushDelivery> {
    const push = buildWechatPush(message, this.credentials, { ...this.defaults, ...options });
    const target = new URL(this.url());
    for (const [k, v] of Object.entries(push.query)) target.searchParams.set(k, v);
    // WeChat gives up on an answer after 5 s.
    const res = await fetch(target, { method: 'POST', headers: { 'content-type': push.contentType }, body: push.body, signal: AbortSignal.timeout(5000) });
    return { status: res.status, answer: await res.text() };
  }

  /** A privacy event as WeChat sends it (FromUserName is WeChat's push service account, OpenID the user). */
  static privacyEvent(appId: string, event: string, openId: string, revokeInfo?: string): Record<string, unknown> {
    return {
      ToUserName: 'gh_sandbox000000',
      FromUserName: 'o_sandbox_push_service',
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      Event: event,
      OpenID: openId,
      AppID: appId,
      ...(revokeInfo !== undefined ? { RevokeInfo: revokeInfo } : {}),
    };
  }
}

/** The sandbox's push senders, one per simulated mini program, each to that app's push route with its credentials. */
export class SandboxPushSenders {
  private readonly senders: Map<string, WechatPushSender>;

  constructor(apps: readonly WechatAppSettings[], baseUrl: () => string) {
    // One app: the one-app route `/wechat/push`; several: each app's own `/wechat/push/{appId}`.
    const path = (appId: string) => (apps.length === 1 ? '/wechat/push' : `/wechat/push/${encodeURIComponent(appId)}`);
    this.senders = new Map(apps.map((app) => [app.appId, new WechatPushSender({ token: app.pushToken ?? '', encodingAesKey: app.pushAesKey, appId: app.appId }, () => baseUrl() + path(app.appId))]));
  }

  of(appId: string): WechatPushSender {
    const sender = this.senders.get(appId);
    if (!sender) throw new Error(`mini program ${appId} is not simulated`);
    return sender;
  }
}
