import { createHash } from 'node:crypto';

/** The fields of a WeChat push this service reads, as trimmed strings (numbers become strings). */
export interface PushMessage {
  toUserName?: string;
  fromUserName?: string;
  createTime?: string;
  msgType?: string;
  event?: string;
  msgId?: string;
  /** Privacy events name the user here; FromUserName is then WeChat's push service account. */
  openId?: string;
  /** `AppID` (privacy events) or `appid` (wxa_media_check). */
  appId?: string;
  revokeInfo?: string;
  traceId?: string;
  /** Everything that was sent, keys trimmed. */
  fields: Readonly<Record<string, unknown>>;
}

/**
 * Reads a decoded push (XML or JSON). Keys are trimmed: WeChat's own JSON samples spell some of
 * them with a leading space (`" OpenID"`), and a trimmed key can only ever mean the same field.
 */
export function readPushMessage(raw: Record<string, unknown>): PushMessage {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) fields[key.trim()] = value;
  const text = (name: string): string | undefined => {
    const v = fields[name];
    if (typeof v === 'string') return v.trim() || undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    return undefined;
  };
  return {
    toUserName: text('ToUserName'),
    fromUserName: text('FromUserName'),
    createTime: text('CreateTime'),
    msgType: text('MsgType'),
    event: text('Event'),
    msgId: text('MsgId'),
    openId: text('OpenID'),
    appId: text('AppID') ?? text('appid') ?? text('AppId'),
    revokeInfo: text('RevokeInfo'),
    traceId: text('trace_id'),
    fields,
  };
}

/**
 * The key that makes WeChat's retries of one message one message (sha256, hex).
 *
 * - Messages with a `MsgId` (user messages) are identified by it, as WeChat recommends.
 * - Events have none. WeChat suggests FromUserName + CreateTime, but for the privacy events
 *   FromUserName is WeChat's push service account, the same for every user: two users revoking in
 *   the same second would collide and the second erasure would be lost. So the key also holds the
 *   event, the user (`OpenID`), what was revoked (`RevokeInfo`: revoking 6 then 8 within a second
 *   are two messages) and the media check's `trace_id` (two image verdicts for one user may share
 *   a second). A retry repeats all of these exactly, so it still maps to the same key.
 * - The receiving app (the appid of the route it came in on, and `ToUserName`) is part of it, so
 *   the apps of one deployment, or of deployments sharing a database, never collide.
 */
export function dedupKey(message: PushMessage, appId: string): string {
  const parts = message.msgId
    ? ['msg', appId, message.toUserName, message.msgId]
    : ['event', appId, message.toUserName, message.fromUserName, message.createTime, message.msgType, message.event, message.openId, message.appId, message.revokeInfo, message.traceId];
  return createHash('sha256')
    .update(JSON.stringify(parts.map((p) => p ?? null)), 'utf8')
    .digest('hex');
}

/** `RevokeInfo` codes ("6,8" → ["6", "8"]). */
export function revokeCodes(revokeInfo: string | undefined): string[] {
  return (revokeInfo ?? '')
    .split(/[,，\s]+/)
    .map((c) => c.trim())
    .filter(Boolean);
}

/** For the audit row: no control characters (PostgreSQL refuses NUL), cut to `max` code points. */
export function auditText(value: string | undefined, max: number): string | null {
  if (value === undefined) return null;
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '');
  return clean ? Array.from(clean).slice(0, max).join('') : null;
}
