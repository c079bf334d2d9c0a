import { ApiError } from './errors';
import { globalPlatform, type Platform, type PlatformResponse, wxLogin, wxRequest, wxUploadFile } from './platform';
import type { HttpMethod, LoginResult, PhoneNumber, ProfilePatch, RequestOptions, User } from './types';

export interface ClientOptions {
  /** The service's origin, e.g. `https://api.example.com` (must be a request domain of the mini program). */
  baseUrl: string;
  /** Sent with each login when the service serves several mini programs. */
  appId?: string;
  /** Where the token is kept with `setStorageSync`. Default `wechat-login:session` (`…:<appId>` with an appId). */
  storageKey?: string;
  /** `wx` (the default, when global), `Taro`, `uni`, or anything with the same API. */
  platform?: Platform;
  /** Milliseconds since the epoch; for tests. Default `Date.now`. */
  now?: () => number;
}

export interface Client {
  /** Logs in now (`wx.login` → `POST /wechat/login`) and stores the token; calls made meanwhile share this login. */
  login(): Promise<LoginResult>;
  /** A call to the service with the bearer token (logging in first when needed); resolves to the JSON body. */
  request<T = unknown>(options: RequestOptions): Promise<T>;
  me(): Promise<User>;
  /** A new nickname or avatarUrl passes WeChat's content check first (`CONTENT_RISKY` when it does not). */
  updateProfile(patch: ProfilePatch): Promise<User>;
  /**
   * Uploads the temporary file `<button open-type="chooseAvatar">` gives. The user comes back with
   * `avatarPending: true`; `avatarUrl` changes once WeChat's image check passes the picture.
   */
  uploadAvatar(tempFilePath: string): Promise<User>;
  /** Redeems the `code` of `<button open-type="getPhoneNumber">` and saves the number to the account. */
  bindPhone(code: string): Promise<PhoneNumber>;
  /** Revokes every token of this user on the service and forgets the stored one. */
  logout(): Promise<void>;
  /** Deletes the account on the service and forgets the stored token. */
  deleteAccount(): Promise<void>;
}

/** What is kept in storage. */
export interface StoredSession {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export const DEFAULT_STORAGE_KEY = 'wechat-login:session';
export const AVATAR_PATH = '/users/me/avatar';
/** A token this close to its expiry is renewed before use rather than sent to be refused. */
const EXPIRY_MARGIN_MS = 30000;

export function createClient(options: ClientOptions): Client {
  if (!options || typeof options.baseUrl !== 'string' || !options.baseUrl) throw new TypeError('createClient: baseUrl is required');
  const platform = options.platform || globalPlatform();
  if (!platform) throw new TypeError('createClient: no platform: pass `platform` (Taro, uni, …) outside a WeChat mini program');
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const appId = options.appId;
  const storageKey = options.storageKey || (appId ? `${DEFAULT_STORAGE_KEY}:${appId}` : DEFAULT_STORAGE_KEY);
  const now = options.now || Date.now;

  // The one login in flight: every caller that needs a token meanwhile waits for it.
  let pendingLogin: Promise<LoginResult> | undefined;
  // Used only when storage itself fails (quota, private mode), so the session still works for this run.
  let memory: StoredSession | undefined;

  function readSession(): StoredSession | undefined {
    let stored: unknown;
    try {
      stored = platform!.getStorageSync(storageKey);
    } catch {
      return memory;
    }
    const s = stored as Partial<StoredSession> | null;
    return s && typeof s === 'object' && typeof s.token === 'string' && typeof s.expiresAt === 'number' ? { token: s.token, expiresAt: s.expiresAt } : undefined;
  }

  function writeSession(session: StoredSession): void {
    memory = session;
    try {
      platform!.setStorageSync(storageKey, session);
    } catch {
      // memory keeps it
    }
  }

  function clearSession(): void {
    memory = undefined;
    try {
      platform!.removeStorageSync(storageKey);
    } catch {
      // nothing stored
    }
  }

  const usable = (s: StoredSession | undefined): s is StoredSession => s !== undefined && s.expiresAt - EXPIRY_MARGIN_MS > now();

  function login(): Promise<LoginResult> {
    if (!pendingLogin) {
      const attempt = freshLogin();
      pendingLogin = attempt;
      const done = () => {
        if (pendingLogin === attempt) pendingLogin = undefined;
      };
      attempt.then(done, done);
    }
    return pendingLogin;
  }

  async function freshLogin(): Promise<LoginResult> {
    const code = await wxLogin(platform!);
    const body: { code: string; appId?: string } = { code };
    if (appId) body.appId = appId;
    const res = await wxRequest(platform!, { url: baseUrl + '/wechat/login', method: 'POST', data: body, header: jsonHeader() });
    const result = expectOk<LoginResult>(res);
    if (!result || typeof result.token !== 'string' || typeof result.expiresIn !== 'number') {
      throw new ApiError('BAD_RESPONSE', res.statusCode, 'The login answer carries no token');
    }
    writeSession({ token: result.token, expiresAt: now() + result.expiresIn * 1000 });
    return result;
  }

  async function currentToken(): Promise<string> {
    if (pendingLogin) return (await pendingLogin).token;
    const session = readSession();
    return usable(session) ? session.token : (await login()).token;
  }

  /** After `refused` got a 401: a login in flight, or one another call already finished, or a new one. */
  async function tokenAfterRefusal(refused: string): Promise<string> {
    if (pendingLogin) return (await pendingLogin).token;
    const session = readSession();
    if (usable(session) && session.token !== refused) return session.token;
    return (await login()).token;
  }

  /** Sends with a token; on a 401 UNAUTHORIZED gets a new token once and sends once more. Never loops. */
  async function withToken(send: (token: string) => Promise<PlatformResponse>): Promise<PlatformResponse> {
    const token = await currentToken();
    const first = await send(token);
    if (!isUnauthorized(first)) return first;
    return send(await tokenAfterRefusal(token));
  }

  function call(options: RequestOptions): Promise<PlatformResponse> {
    const method = (options.method || 'GET').toUpperCase() as HttpMethod;
    const url = baseUrl + options.path;
    // wx.request sends `content-type: application/json` even without data, and the service refuses an
    // empty JSON body: a write without data sends `{}`.
    const data = options.data === undefined && method !== 'GET' ? {} : options.data;
    const header = method === 'GET' ? { ...options.header } : { ...jsonHeader(), ...options.header };
    const send = (token?: string) => wxRequest(platform!, { url, method, data, header: token ? { ...header, Authorization: `Bearer ${token}` } : header });
    return options.auth === false ? send() : withToken(send);
  }

  async function request<T>(options: RequestOptions): Promise<T> {
    return expectOk<T>(await call(options));
  }

  return {
    login,
    request,
    me: () => request<User>({ path: '/users/me' }),
    updateProfile: (patch) => request<User>({ path: '/users/me', method: 'PATCH', data: patch }),
    async uploadAvatar(tempFilePath) {
      const res = await withToken((token) => wxUploadFile(platform!, { url: baseUrl + AVATAR_PATH, filePath: tempFilePath, name: 'file', header: { Authorization: `Bearer ${token}` } }));
      return expectOk<User>(res);
    },
    bindPhone: (code) => request<PhoneNumber>({ path: '/wechat/phone', method: 'POST', data: { code } }),
    async logout() {
      // A login in flight would store a token after we forgot the old one: let it land, then revoke both.
      if (pendingLogin) await pendingLogin.then(ignore, ignore);
      const session = readSession();
      clearSession();
      if (!session) return;
      const res = await wxRequest(platform, {
        url: baseUrl + '/auth/logout',
        method: 'POST',
        data: {},
        header: { ...jsonHeader(), Authorization: `Bearer ${session.token}` },
      });
      // Refused: the token was already revoked or expired, which is what logging out wants.
      if (res.statusCode !== 401) expectOk(res);
    },
    async deleteAccount() {
      await request({ path: '/users/me', method: 'DELETE' });
      clearSession();
    },
  };
}

const ignore = () => undefined;
const jsonHeader = (): Record<string, string> => ({ 'content-type': 'application/json' });

/** The body as JSON when it is JSON text (`wx.uploadFile` always gives text; `wx.request` parses JSON itself). */
function bodyOf(res: PlatformResponse): unknown {
  if (typeof res.data !== 'string') return res.data;
  if (!res.data) return undefined;
  try {
    return JSON.parse(res.data);
  } catch {
    return res.data;
  }
}

function isUnauthorized(res: PlatformResponse): boolean {
  if (res.statusCode !== 401) return false;
  const body = bodyOf(res) as { code?: unknown } | undefined;
  return !!body && typeof body === 'object' && body.code === 'UNAUTHORIZED';
}

function expectOk<T>(res: PlatformResponse): T {
  const body = bodyOf(res);
  if (res.statusCode >= 200 && res.statusCode < 300) return body as T;
  const err = body as { code?: unknown; message?: unknown } | undefined;
  if (err && typeof err === 'object' && typeof err.code === 'string') {
    throw new ApiError(err.code, res.statusCode, typeof err.message === 'string' ? err.message : err.code);
  }
  throw new ApiError('BAD_RESPONSE', res.statusCode, `HTTP ${res.statusCode} without an error body`);
}
