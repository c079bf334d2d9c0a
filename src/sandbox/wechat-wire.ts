/**
 * WeChat's server API as it looks on the wire: paths, request and answer shapes, content types, and
 * its error answers (errcode, errmsg with a request id). Used by the simulator's routes.
 */
import { newTraceId } from './wechat-data';

export interface SimRequest {
  method: string;
  /** Path without the query string, e.g. `/sns/jscode2session`. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
}

export interface RecordedRequest extends SimRequest {
  /** `now()` when the request arrived. */
  at: number;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
  /** Set by a 'hang' fault: the HTTP layer must never answer (see {@link HANG}). */
  hang?: true;
  /** Set by a 'drip' fault: the headers at once, then the body a few bytes at a time, this many ms apart. */
  dripMs?: number;
}

/** Marker answer of a 'hang' fault: send nothing, keep the connection open. */
export const HANG: Readonly<SimResponse> = Object.freeze({ status: 0, body: '', hang: true as const });

export function isHang(res: SimResponse): boolean {
  return res.hang === true;
}

export const JSCODE2SESSION_PATH = '/sns/jscode2session';
export const STABLE_TOKEN_PATH = '/cgi-bin/stable_token';
export const TOKEN_PATH = '/cgi-bin/token';
export const PHONE_NUMBER_PATH = '/wxa/business/getuserphonenumber';
export const CHECK_SESSION_PATH = '/wxa/checksession';
export const MSG_SEC_CHECK_PATH = '/wxa/msg_sec_check';
export const MEDIA_CHECK_ASYNC_PATH = '/wxa/media_check_async';

// WeChat answers JSON with these content types; jscode2session really says text/plain,
// which clients must tolerate.
export const JSON_TYPE = 'application/json; encoding=utf-8';
export const SNS_TYPE = 'text/plain';

const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40029: 'invalid code',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  40163: 'code been used',
  40226: 'high risk user',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41008: 'missing code',
  42001: 'access_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  45011: 'api minute-quota reach limit  mustslower  retry next minute',
  47001: 'data format error',
  87009: 'invalid signature',
};

/** WeChat appends a request id to every error message; clients must not match errmsg exactly. */
export function rid(): string {
  return newTraceId();
}

export function json(body: object, contentType = JSON_TYPE, status = 200): SimResponse {
  return { status, headers: { 'content-type': contentType }, body: JSON.stringify(body) };
}

export function wxError(errcode: number, contentType = JSON_TYPE, errmsg?: string): SimResponse {
  const message = errmsg ?? `${ERRMSG[errcode] ?? 'simulated error'}, rid: ${rid()}`;
  return json({ errcode, errmsg: message }, contentType);
}

export function stringField(body: unknown, key: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

export function isPlainObject(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}
