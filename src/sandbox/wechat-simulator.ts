/**
 * An in-memory fake of the WeChat server API (jscode2session, access tokens,
 * phone numbers, checksession) speaking WeChat's wire format, for one or several
 * mini programs at once: each has its own codes, openids, session keys and access
 * tokens, and one person (one unionid) has a different openid in each. Pure logic: the
 * HTTP layer lives in wechat-simulator.server.ts, so the same instance can be
 * served on loopback for tests or driven in-process by the sandbox mode.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CHECK_SESSION_PATH,
  isPlainObject,
  JSCODE2SESSION_PATH,
  json,
  JSON_TYPE,
  rid,
  MEDIA_CHECK_ASYNC_PATH,
  MSG_SEC_CHECK_PATH,
  PHONE_NUMBER_PATH,
  SNS_TYPE,
  STABLE_TOKEN_PATH,
  stringField,
  TOKEN_PATH,
  wxError,
  type RecordedRequest,
  type SimRequest,
  type SimResponse,
} from './wechat-wire';
import { PLACEHOLDER_AVATAR_URL, PLACEHOLDER_NICKNAME } from '../wechat/wechat-login.service';
import { encryptWithSessionKey, hmacSha256Hex, newOpenId, sha1Hex, newSessionKey, newTraceId, parsePhoneNumber, randomAlnum, type EncryptedPayload, type PhoneInfo } from './wechat-data';
// The simulator's users import the wire format and WeChat's data helpers from here too.
export * from './wechat-wire';
export * from './wechat-data';
import { fetchMedia, judgeImage, judgeText, mediaCheckPush, type MediaCheckPush } from './simulated-content-checks';

export interface WechatSimulatorOptions {
  /** The first (or only) mini program. */
  appId: string;
  secret: string;
  /** Further mini programs bound to the same Open Platform account (same unionids, own openids). */
  moreApps?: { appId: string; secret: string }[];
  /** Clock in ms since epoch; injectable so tests can expire codes and tokens. */
  now?: () => number;
  /** Lifetime of issued access tokens. Default 7200 (as WeChat). */
  accessTokenTtlSeconds?: number;
  /** Lifetime of login and phone codes. Default 5 minutes (as WeChat). */
  codeTtlMs?: number;
  /** Delay answers of the token routes, to make stampedes observable. Default 0. */
  tokenDelayMs?: number;
  /** Keep at most this many entries in `requests` (oldest dropped). Default 10 000. */
  maxRecordedRequests?: number;
}

export interface LoginCodeInput {
  /** The mini program the code is of; default the first. */
  appId?: string;
  /**
   * Default: this person's openid in this app when `unionId` names one seen before in it, else a
   * new one. (Each app gives one person its own openid; the unionid is shared.)
   */
  openId?: string;
  unionId?: string;
  nickName?: string;
  avatarUrl?: string;
  gender?: 0 | 1 | 2;
  country?: string;
  province?: string;
  city?: string;
}

/** What a mini program holds after wx.login + wx.getUserInfo. */
export interface IssuedLoginCode {
  code: string;
  openId: string;
  rawData: string;
  signature: string;
  encryptedData: string;
  iv: string;
}

interface LoginCodeEntry {
  appId: string;
  openId: string;
  unionId?: string;
  sessionKey: string;
  expiresAt: number;
  used: boolean;
}

interface PhoneCodeEntry {
  appId: string;
  /** The user who tapped the button; undefined: any openid may redeem it. */
  openId?: string;
  phone: PhoneInfo;
  expiresAt: number;
  used: boolean;
}

interface AccessTokenEntry {
  appId: string;
  expiresAt: number;
  revoked: boolean;
}

type Route = {
  method: 'GET' | 'POST';
  /** stable_token and token: slowed down by tokenDelayMs. */
  tokenRoute?: boolean;
  /** Called with `?access_token=`: a missing, invalid or expired one is refused before anything else. */
  withAccessToken?: boolean;
  run: (req: SimRequest) => SimResponse;
};

/** Maps keyed by (app, openid) or (app, unionid): appids never contain a newline. */
const pair = (appId: string, id: string) => `${appId}\n${id}`;

export class WechatSimulator {
  /** The first mini program (the only one unless `moreApps` was given). */
  readonly appId: string;
  readonly secret: string;
  /** Every simulated mini program, the first first. */
  readonly apps: readonly { appId: string; secret: string }[];
  /** Every request received, oldest first (capped, see maxRecordedRequests). */
  readonly requests: RecordedRequest[] = [];
  /** Delay of the token routes (stable_token, token), settable at any time. */
  tokenDelayMs: number;
  /** Access tokens issued so far (any route). */
  accessTokensIssued = 0;
  /** stable_token calls with force_refresh: true that were answered. */
  forcedRefreshes = 0;
  /**
   * Where the verdicts of media_check_async go, as the `wxa_media_check` push WeChat would send
   * (the sandbox delivers it to the service's push route). Unset: verdicts are only kept in `mediaVerdicts`.
   */
  onMediaVerdict?: (push: MediaCheckPush) => Promise<void> | void;
  /** How the image behind a media_url is fetched; tests replace it to judge URLs that are not on loopback. */
  fetchMedia: (url: string) => Promise<Buffer | undefined> = fetchMedia;
  /** Every verdict reached so far, oldest first (capped like `requests`). */
  readonly mediaVerdicts: MediaCheckPush[] = [];

  private readonly now: () => number;
  private readonly accessTokenTtlSeconds: number;
  private readonly codeTtlMs: number;
  private readonly maxRecordedRequests: number;
  private readonly requestCounts = new Map<string, number>();
  private readonly loginCodes = new Map<string, LoginCodeEntry>();
  private readonly phoneCodes = new Map<string, PhoneCodeEntry>();
  /** By (app, openid). */
  private readonly sessionKeys = new Map<string, string>();
  /** A person's openid in each app, by (app, unionid). */
  private readonly openIdsOfUnion = new Map<string, string>();
  private readonly accessTokens = new Map<string, AccessTokenEntry>();
  /** The current stable_token of each app. */
  private readonly stableTokens = new Map<string, string>();
  private readonly issuedPerApp = new Map<string, number>();
  private issuedSinceSweep = 0;

  private readonly routes: Record<string, Route> = {
    [JSCODE2SESSION_PATH]: { method: 'GET', run: (req) => this.jscode2session(req) },
    [STABLE_TOKEN_PATH]: { method: 'POST', tokenRoute: true, run: (req) => this.stableTokenRoute(req) },
    [TOKEN_PATH]: { method: 'GET', tokenRoute: true, run: (req) => this.tokenRoute(req) },
    [PHONE_NUMBER_PATH]: { method: 'POST', withAccessToken: true, run: (req) => this.phoneNumberRoute(req) },
    [CHECK_SESSION_PATH]: { method: 'GET', withAccessToken: true, run: (req) => this.checkSessionRoute(req) },
    [MSG_SEC_CHECK_PATH]: { method: 'POST', withAccessToken: true, run: (req) => this.msgSecCheckRoute(req) },
    [MEDIA_CHECK_ASYNC_PATH]: { method: 'POST', withAccessToken: true, run: (req) => this.mediaCheckAsyncRoute(req) },
  };

  constructor(opts: WechatSimulatorOptions) {
    this.appId = opts.appId;
    this.secret = opts.secret;
    this.apps = [{ appId: opts.appId, secret: opts.secret }, ...(opts.moreApps ?? [])];
    this.now = opts.now ?? Date.now;
    this.accessTokenTtlSeconds = opts.accessTokenTtlSeconds ?? 7200;
    this.codeTtlMs = opts.codeTtlMs ?? 5 * 60_000;
    this.tokenDelayMs = opts.tokenDelayMs ?? 0;
    this.maxRecordedRequests = opts.maxRecordedRequests ?? 10_000;
  }

  // ---------------------------------------------------------------- mini program side

  /** wx.login + wx.getUserInfo: a fresh code bound to a fresh session_key for the openid. */
  issueLoginCode(input: LoginCodeInput = {}): IssuedLoginCode {
    const appId = this.appOf(input.appId);
    const openId = input.openId ?? this.openIdOfPerson(appId, input.unionId);
    const sessionKey = newSessionKey();
    const code = randomAlnum(32);
    this.sweepExpiredCodes();
    this.loginCodes.set(code, {
      appId,
      openId,
      unionId: input.unionId,
      sessionKey,
      expiresAt: this.now() + this.codeTtlMs,
      used: false,
    });

    // What WeChat answers wx.getUserInfo with since 2022 unless the test asks for a profile: placeholders.
    const profile = {
      nickName: input.nickName ?? PLACEHOLDER_NICKNAME,
      gender: input.gender ?? 0,
      language: 'zh_CN',
      city: input.city ?? '',
      province: input.province ?? '',
      country: input.country ?? '',
      avatarUrl: input.avatarUrl ?? PLACEHOLDER_AVATAR_URL,
    };
    const rawData = JSON.stringify(profile);
    const signature = sha1Hex(rawData + sessionKey);
    const userInfo = { openId, ...(input.unionId ? { unionId: input.unionId } : {}), ...profile };
    const { encryptedData, iv } = this.encryptWith(sessionKey, userInfo, appId);
    return { code, openId, rawData, signature, encryptedData, iv };
  }

  /** The openid a person (a unionid) has in an app, made on first sight; a new person without unionid. */
  openIdOfPerson(appId: string, unionId: string | undefined): string {
    if (unionId === undefined) return newOpenId();
    const key = pair(this.appOf(appId), unionId);
    let openId = this.openIdsOfUnion.get(key);
    if (!openId) this.openIdsOfUnion.set(key, (openId = newOpenId()));
    return openId;
  }

  /** Whether `appId` is one of the simulated mini programs. */
  hasApp(appId: string): boolean {
    return this.apps.some((app) => app.appId === appId);
  }

  /**
   * The getPhoneNumber button's code for the current API. With `openId`, the code belongs to that
   * user, as on WeChat: redeeming it with another openid is refused.
   */
  issuePhoneCode(input: { phoneNumber?: string; openId?: string; appId?: string } = {}): { code: string } {
    const code = randomBytes(32).toString('hex');
    this.sweepExpiredCodes();
    this.phoneCodes.set(code, {
      appId: this.appOf(input.appId),
      openId: input.openId,
      phone: parsePhoneNumber(input.phoneNumber),
      expiresAt: this.now() + this.codeTtlMs,
      used: false,
    });
    return { code };
  }

  /** Encrypts payload + watermark with the openid's current session_key (throws if none). */
  encryptForSession(openId: string, payload: object, appId?: string): EncryptedPayload {
    const app = this.appOf(appId);
    const sessionKey = this.sessionKeys.get(pair(app, openId));
    if (!sessionKey) throw new Error(`no session_key for openid ${openId}: exchange a login code first`);
    return this.encryptWith(sessionKey, payload, app);
  }

  /** Legacy getPhoneNumber encryptedData for the openid's current session. */
  encryptPhoneForSession(openId: string, phoneNumber?: string, appId?: string): EncryptedPayload {
    return this.encryptForSession(openId, parsePhoneNumber(phoneNumber), appId);
  }

  currentSessionKey(openId: string, appId?: string): string | undefined {
    return this.sessionKeys.get(pair(this.appOf(appId), openId));
  }

  /**
   * The session_key bound to an issued code not exchanged yet: what a mini program's data for that
   * login is signed and encrypted with. Tests use it to craft data (a foreign watermark, rawData and
   * encryptedData that disagree) that WeChat itself would never hand out.
   */
  pendingSessionKey(code: string): string | undefined {
    return this.loginCodes.get(code)?.sessionKey;
  }

  // ---------------------------------------------------------------- test controls

  /** Requests received for a path since the last reset() (not capped). */
  countRequests(path: string): number {
    return this.requestCounts.get(path) ?? 0;
  }

  /** Clears recorded requests and counters. Codes, sessions and tokens stay. */
  reset(): void {
    this.requests.length = 0;
    this.requestCounts.clear();
    this.accessTokensIssued = 0;
    this.issuedPerApp.clear();
    this.forcedRefreshes = 0;
  }

  /** The app an access token was issued to (undefined for one never issued). */
  appOfAccessToken(token: string): string | undefined {
    return this.accessTokens.get(token)?.appId;
  }

  /** Access tokens issued to one app since the last reset() (any route). */
  accessTokensIssuedFor(appId: string): number {
    return this.issuedPerApp.get(appId) ?? 0;
  }

  /** Every access token issued so far becomes invalid (next use → 40001). */
  revokeAccessTokens(): void {
    for (const entry of this.accessTokens.values()) entry.revoked = true;
    this.stableTokens.clear();
  }

  /** Every access token issued so far expires now (next use → 42001). */
  expireAccessTokens(): void {
    const now = this.now();
    for (const entry of this.accessTokens.values()) entry.expiresAt = Math.min(entry.expiresAt, now);
  }

  /** WeChat forgets the openid's session_key (checksession → 87009). */
  expireSession(openId: string, appId?: string): void {
    this.sessionKeys.delete(pair(this.appOf(appId), openId));
  }

  // ---------------------------------------------------------------- wire

  /**
   * Answers one request as WeChat would. A 'hang' fault resolves to {@link HANG}
   * (`hang: true`): the caller must not answer at all.
   */
  async handle(req: SimRequest): Promise<SimResponse> {
    const request: SimRequest = { method: req.method.toUpperCase(), path: req.path, query: req.query ?? {}, body: req.body };
    this.record(request);
    const intercepted = await this.intercept(request);
    return intercepted ?? this.answer(request);
  }

  /** The route's own answer to a recorded request. */
  protected async answer(request: SimRequest): Promise<SimResponse> {
    const route = this.routes[request.path];
    if (!route) return json({ errcode: -1, errmsg: 'not found' }, JSON_TYPE, 404);
    if (route.method !== request.method) return wxError(route.method === 'GET' ? 43001 : 43002);
    if (route.tokenRoute && this.tokenDelayMs > 0) await sleep(this.tokenDelayMs);
    if (route.withAccessToken) {
      const tokenError = this.checkAccessToken(request.query.access_token);
      if (tokenError) return wxError(tokenError);
    }
    return route.run(request);
  }

  private record(req: SimRequest): void {
    this.requests.push({ ...req, at: this.now() });
    this.requestCounts.set(req.path, this.countRequests(req.path) + 1);
    // Trim in batches so a long sandbox run stays bounded without O(n) per request.
    if (this.requests.length >= 2 * this.maxRecordedRequests) {
      this.requests.splice(0, this.requests.length - this.maxRecordedRequests);
    }
  }

  /** A subclass's answer instead of the route's (tests inject faults this way); none here. */
  protected async intercept(_request: SimRequest): Promise<SimResponse | undefined> {
    return undefined;
  }

  // ---------------------------------------------------------------- routes

  private jscode2session(req: SimRequest): SimResponse {
    const q = req.query;
    const credentialError = this.checkCredentials(q.appid, q.secret);
    if (credentialError) return wxError(credentialError, SNS_TYPE);
    if (!q.js_code) return wxError(41008, SNS_TYPE);
    if (q.grant_type !== 'authorization_code') return wxError(40002, SNS_TYPE);

    const entry = this.loginCodes.get(q.js_code);
    // A code of another mini program is no code of this one.
    if (!entry || entry.appId !== q.appid) return wxError(40029, SNS_TYPE);
    if (entry.used) return wxError(40163, SNS_TYPE);
    if (entry.expiresAt <= this.now()) return wxError(40029, SNS_TYPE);

    entry.used = true;
    this.sessionKeys.set(pair(entry.appId, entry.openId), entry.sessionKey);
    const body: Record<string, string> = { session_key: entry.sessionKey, openid: entry.openId };
    if (entry.unionId) body.unionid = entry.unionId;
    return json(body, SNS_TYPE);
  }

  private stableTokenRoute(req: SimRequest): SimResponse {
    const body = req.body;
    if (!isPlainObject(body)) return wxError(47001);
    const credentialError = this.checkCredentials(stringField(body, 'appid'), stringField(body, 'secret'));
    if (credentialError) return wxError(credentialError);
    if (body.grant_type !== 'client_credential') return wxError(40002);

    const appId = stringField(body, 'appid')!;
    const forceRefresh = body.force_refresh === true;
    const stable = this.stableTokens.get(appId);
    const current = stable ? this.accessTokens.get(stable) : undefined;
    if (!forceRefresh && stable && current && this.isLive(current)) {
      const expiresIn = Math.floor((current.expiresAt - this.now()) / 1000);
      return json({ access_token: stable, expires_in: expiresIn });
    }
    if (forceRefresh) {
      this.forcedRefreshes += 1;
      if (current) current.revoked = true;
    }
    const token = this.issueAccessToken(appId);
    this.stableTokens.set(appId, token);
    return json({ access_token: token, expires_in: this.accessTokenTtlSeconds });
  }

  /** The classic getAccessToken: always a new token; earlier ones stay valid until they expire. */
  private tokenRoute(req: SimRequest): SimResponse {
    const q = req.query;
    if (q.grant_type !== 'client_credential') return wxError(40002);
    const credentialError = this.checkCredentials(q.appid, q.secret);
    if (credentialError) return wxError(credentialError);
    return json({ access_token: this.issueAccessToken(q.appid), expires_in: this.accessTokenTtlSeconds });
  }

  private phoneNumberRoute(req: SimRequest): SimResponse {
    if (!isPlainObject(req.body)) return wxError(47001);
    const appId = this.callerOf(req);

    const code = stringField(req.body, 'code');
    const entry = code ? this.phoneCodes.get(code) : undefined;
    // The access token says which mini program asks: a code of another one is unknown to it.
    if (!entry || entry.appId !== appId) return wxError(40029);
    if (entry.used) return wxError(40163);
    if (entry.expiresAt <= this.now()) return wxError(40029);
    const openid = stringField(req.body, 'openid');
    // A code issued to one user is invalid for any other openid.
    if (entry.openId !== undefined && openid !== entry.openId) return wxError(40029);

    entry.used = true;
    return json({
      errcode: 0,
      errmsg: 'ok',
      phone_info: { ...entry.phone, watermark: { timestamp: this.timestamp(), appid: appId } },
    });
  }

  private checkSessionRoute(req: SimRequest): SimResponse {
    const q = req.query;
    if (!q.openid || !q.signature || q.sig_method !== 'hmac_sha256') return wxError(40097);

    const sessionKey = this.sessionKeys.get(pair(this.callerOf(req), q.openid));
    if (!sessionKey || hmacSha256Hex(sessionKey, '') !== q.signature) return wxError(87009);
    return json({ errcode: 0, errmsg: 'ok' });
  }

  /** msg_sec_check v2 (see simulated-content-checks.ts for the rule). */
  private msgSecCheckRoute(req: SimRequest): SimResponse {
    const body = req.body;
    if (!isPlainObject(body)) return wxError(47001);
    const content = stringField(body, 'content');
    if (content === undefined || body.version !== 2 || typeof body.scene !== 'number' || !stringField(body, 'openid')) return wxError(40003, JSON_TYPE, `invalid args, rid: ${rid()}`);
    const verdict = judgeText(content);
    return json({
      errcode: 0,
      errmsg: 'ok',
      result: verdict,
      detail: [{ strategy: 'content_model', errcode: 0, suggest: verdict.suggest, label: Number(verdict.label), prob: 90 }],
      trace_id: newTraceId(),
    });
  }

  /**
   * media_check_async v2: answers a trace_id at once, then fetches the image, judges it and hands
   * the verdict to `onMediaVerdict` (well within a second for an avatar on loopback).
   */
  private mediaCheckAsyncRoute(req: SimRequest): SimResponse {
    const body = req.body;
    if (!isPlainObject(body)) return wxError(47001);
    const mediaUrl = stringField(body, 'media_url');
    const openId = stringField(body, 'openid');
    if (!mediaUrl || !/^https?:\/\//.test(mediaUrl) || body.media_type !== 2 || body.version !== 2 || typeof body.scene !== 'number' || !openId) {
      return wxError(40003, JSON_TYPE, `invalid args, rid: ${rid()}`);
    }
    const traceId = newTraceId();
    // The verdict is pushed by the mini program whose access token asked.
    void this.judgeMedia(traceId, mediaUrl, openId, this.callerOf(req));
    return json({ errcode: 0, errmsg: 'ok', trace_id: traceId });
  }

  private async judgeMedia(traceId: string, mediaUrl: string, openId: string, appId: string): Promise<void> {
    const image = await this.fetchMedia(mediaUrl);
    const verdict = image ? await judgeImage(image) : { suggest: 'risky' as const, label: '21000' };
    const push = mediaCheckPush({ appId, openId, traceId, verdict, now: this.now() });
    this.mediaVerdicts.push(push);
    if (this.mediaVerdicts.length >= 2 * this.maxRecordedRequests) this.mediaVerdicts.splice(0, this.mediaVerdicts.length - this.maxRecordedRequests);
    try {
      await this.onMediaVerdict?.(push);
    } catch {
      // The receiver failed: WeChat would retry later; the sandbox just drops it.
    }
  }

  // ---------------------------------------------------------------- helpers

  private checkCredentials(appid: string | undefined, secret: string | undefined): number | undefined {
    if (!appid) return 41002;
    const app = this.apps.find((a) => a.appId === appid);
    if (!app) return 40013;
    if (!secret) return 41004;
    if (secret !== app.secret) return 40125;
    return undefined;
  }

  private checkAccessToken(token: string | undefined): number | undefined {
    if (!token) return 41001;
    const entry = this.accessTokens.get(token);
    if (!entry || entry.revoked) return 40001;
    if (entry.expiresAt <= this.now()) return 42001;
    return undefined;
  }

  /** The mini program whose access token a `withAccessToken` route was called with (checked by then). */
  private callerOf(req: SimRequest): string {
    return this.accessTokens.get(req.query.access_token)!.appId;
  }

  private isLive(entry: AccessTokenEntry): boolean {
    return !entry.revoked && entry.expiresAt > this.now();
  }

  private issueAccessToken(appId: string): string {
    // Real tokens are long opaque strings; 136 chars of base64url is their usual size.
    const token = randomBytes(102).toString('base64url');
    this.accessTokens.set(token, { appId, expiresAt: this.now() + this.accessTokenTtlSeconds * 1000, revoked: false });
    this.accessTokensIssued += 1;
    this.issuedPerApp.set(appId, this.accessTokensIssuedFor(appId) + 1);
    return token;
  }

  /** The named app (which must be simulated), or the first. */
  private appOf(appId: string | undefined): string {
    if (appId === undefined) return this.appId;
    if (!this.hasApp(appId)) throw new Error(`mini program ${appId} is not simulated`);
    return appId;
  }

  private encryptWith(sessionKey: string, payload: object, appId: string): EncryptedPayload {
    const plaintext = JSON.stringify({ ...payload, watermark: { appid: appId, timestamp: this.timestamp() } });
    return encryptWithSessionKey(sessionKey, plaintext);
  }

  private timestamp(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Drops long-expired codes now and then so a long sandbox run does not grow without bound. */
  private sweepExpiredCodes(): void {
    this.issuedSinceSweep += 1;
    if (this.issuedSinceSweep < 1000) return;
    this.issuedSinceSweep = 0;
    const now = this.now();
    // A forgotten code answers 40029, as an expired one does anyway.
    for (const [code, entry] of this.loginCodes) if (entry.expiresAt <= now) this.loginCodes.delete(code);
    for (const [code, entry] of this.phoneCodes) if (entry.expiresAt <= now) this.phoneCodes.delete(code);
  }
}
