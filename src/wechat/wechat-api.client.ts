import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { AppError } from '../common/errors/app-error';
import { parseJsonObject } from '../common/parse-json-object';
import { InjectWechatSettings } from '../config/config.module';
import type { WechatAppSettings, WechatSettings } from '../config/configuration';
import { WechatAccessTokenRejectedError, WechatBadResponseError, WechatCodeInvalidError, WechatRateLimitedError, WechatUnavailableError, WechatUserBlockedError } from './wechat.errors';
import { textProblem } from '../common/text';

/** openid and unionid columns hold 64 characters (WeChat's are 28). */
export const WECHAT_ID_MAX = 64;
const SESSION_KEY = /^[A-Za-z0-9+/]{22}==$/;

export interface WechatRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** The error for a rejected one-time code (40029, 40163): login and phone codes differ. */
  codeRejected?: (errcode: number) => AppError;
  /** Errcodes that are answers rather than failures for this call (returned, not thrown). */
  accept?: readonly number[];
}

export interface WechatSession {
  openId: string;
  sessionKey: string;
  unionId?: string;
}

/** WeChat's "system busy": safe to retry, nothing was consumed. */
const SYSTEM_BUSY = -1;
const BUSY_RETRIES = 2;
const BUSY_BACKOFF_MS = [100, 300];
const ACCESS_TOKEN_REJECTED = new Set([40001, 42001, 40014]);

/**
 * The HTTP client of WeChat's server API: keep-alive pool, per-request timeout, errcodes decoded
 * into typed errors, errcode -1 retried. Timeouts and 5xx are not retried: a login code may
 * already be spent. Query strings (secret, js_code, access_token) are never logged.
 */
@Injectable()
export class WechatApiClient implements OnModuleDestroy {
  private readonly logger = new Logger(WechatApiClient.name);
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(@InjectWechatSettings() private readonly settings: WechatSettings) {
    const base = new URL(settings.apiBaseUrl);
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.pool = new Pool(base.origin, {
      connections: 64,
      keepAliveTimeout: 30_000,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      connectTimeout: settings.timeoutMs,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.destroy();
  }

  /**
   * `GET /sns/jscode2session`: a wx.login code of the mini program `app` for the user's openid and
   * session_key. A code of another app is refused by WeChat (40029), as any invalid code.
   */
  async code2Session(app: Pick<WechatAppSettings, 'appId' | 'secret'>, code: string): Promise<WechatSession> {
    const body = await this.call<{ openid?: unknown; session_key?: unknown; unionid?: unknown }>({
      method: 'GET',
      path: '/sns/jscode2session',
      query: { appid: app.appId, secret: app.secret, js_code: code, grant_type: 'authorization_code' },
      codeRejected: (errcode) => new WechatCodeInvalidError(errcode),
    });
    if (typeof body.openid !== 'string' || !body.openid || typeof body.session_key !== 'string' || !body.session_key) {
      throw new WechatBadResponseError('jscode2session answer lacks openid or session_key');
    }
    // What WeChat sends goes into the database: a value no column could hold is WeChat's fault, not the user's.
    const unionId = typeof body.unionid === 'string' && body.unionid ? body.unionid : undefined;
    for (const [name, value] of [
      ['openid', body.openid],
      ['unionid', unionId],
    ] as const) {
      const problem = value === undefined ? undefined : textProblem(value, WECHAT_ID_MAX);
      if (problem) throw new WechatBadResponseError(`jscode2session ${name} ${problem}`);
    }
    if (!SESSION_KEY.test(body.session_key)) throw new WechatBadResponseError('jscode2session session_key is not base64 of 16 bytes');
    return { openId: body.openid, sessionKey: body.session_key, unionId };
  }

  /** One WeChat call with errcode -1 retried; any other errcode becomes a typed error. */
  async call<T extends object>(request: WechatRequest): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const body = await this.send(request);
      const errcode = typeof body.errcode === 'number' ? body.errcode : 0;
      if (errcode === 0 || request.accept?.includes(errcode)) return body as T;
      if (errcode === SYSTEM_BUSY && attempt < BUSY_RETRIES) {
        await sleep(BUSY_BACKOFF_MS[attempt]);
        continue;
      }
      this.logger.warn({ path: request.path, errcode, errmsg: String(body.errmsg ?? '').slice(0, 200) }, `WeChat ${request.path} answered errcode ${errcode}`);
      throw errorFor(errcode, request);
    }
  }

  private async send(request: WechatRequest): Promise<Record<string, unknown>> {
    const query = request.query ? queryString(request.query) : '';
    const started = performance.now();
    let statusCode: number;
    let text: string;
    try {
      // Waiting for the headers is bounded by the pool's headersTimeout, which also closes the socket
      // (an aborted request's socket would stay open until the upstream answers, measured with undici 7).
      const res = await this.pool.request({
        method: request.method,
        path: this.basePath + request.path + query,
        headers: request.body === undefined ? undefined : { 'content-type': 'application/json' },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
      statusCode = res.statusCode;
      // The body gets what is left of WECHAT_TIMEOUT_MS: the pool's bodyTimeout restarts with each
      // chunk, so an answer trickling in would otherwise hold the request for as long as it trickles.
      const deadline = setTimeout(() => res.body.destroy(new BodyDeadlineError()), Math.max(0, this.settings.timeoutMs - (performance.now() - started)));
      try {
        text = await res.body.text();
      } finally {
        clearTimeout(deadline);
      }
    } catch (err) {
      throw new WechatUnavailableError(describeNetworkError(err, this.settings.timeoutMs), err);
    }
    const ms = Math.round(performance.now() - started);
    this.logger.debug({ upstream: { method: request.method, path: request.path, status: statusCode, ms } }, `WeChat ${request.method} ${request.path} ${statusCode} in ${ms} ms`);
    if (statusCode >= 500) throw new WechatUnavailableError(`HTTP ${statusCode}`);
    if (statusCode !== 200) throw new WechatBadResponseError(`HTTP ${statusCode}`);
    const body = parseJsonObject(text);
    if ('problem' in body) throw new WechatBadResponseError(`body ${body.problem}`);
    return body.object;
  }
}

/** `?name=value&…`, names and values percent-encoded (a space as %20 where URLSearchParams writes +: servers decode both), at half URLSearchParams' cost. */
function queryString(query: Record<string, string>): string {
  let out = '';
  for (const name in query) out += `${out ? '&' : '?'}${encodeURIComponent(name)}=${encodeURIComponent(query[name])}`;
  return out;
}

function errorFor(errcode: number, request: WechatRequest): AppError {
  if (errcode === SYSTEM_BUSY) return new WechatUnavailableError('system busy (errcode -1) after retries');
  if ((errcode === 40029 || errcode === 40163) && request.codeRejected) return request.codeRejected(errcode);
  if (errcode === 40226) return new WechatUserBlockedError();
  if (errcode === 45011) return new WechatRateLimitedError();
  if (ACCESS_TOKEN_REJECTED.has(errcode)) return new WechatAccessTokenRejectedError(errcode);
  return new WechatBadResponseError(`errcode ${errcode}`, errcode);
}

/** The body of an answer was still arriving when WECHAT_TIMEOUT_MS ran out. */
class BodyDeadlineError extends Error {
  override name = 'TimeoutError';
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `no answer within ${timeoutMs} ms`;
  }
  return `connection failed (${e?.code ?? e?.cause?.code ?? e?.name ?? 'unknown'})`;
}
