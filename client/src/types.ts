/** The user as the service returns it. */
export interface User {
  id: number;
  openId: string;
  unionId: string | null;
  nickname: string | null;
  /** The last avatar that passed WeChat's image check. */
  avatarUrl: string | null;
  /** A newer avatar was uploaded and awaits WeChat's verdict; `avatarUrl` changes once it passes. */
  avatarPending: boolean;
  gender: 0 | 1 | 2 | null;
  country: string | null;
  province: string | null;
  city: string | null;
  mobile: string | null;
  /** The phone number is known: do not show the (billed) phone button again. */
  hasMobile: boolean;
  mobileVerifiedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** This person's openid in each mini program it logged in to, oldest first (always sent). */
  identities: { appId: string; openId: string }[];
}

/** `POST /wechat/login`. */
export interface LoginResult {
  token: string;
  tokenType: 'Bearer';
  /** Seconds. */
  expiresIn: number;
  user: User;
}

/** `PATCH /users/me`: any subset; `null` clears a field. */
export interface ProfilePatch {
  nickname?: string | null;
  avatarUrl?: string | null;
  gender?: 0 | 1 | 2 | null;
  country?: string | null;
  province?: string | null;
  city?: string | null;
}

/** `POST /wechat/phone`. */
export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  /** Path on the service, e.g. `/users/me`. */
  path: string;
  method?: HttpMethod;
  /** JSON body (query string for GET, as `wx.request` does). */
  data?: unknown;
  header?: Record<string, string>;
  /** `false` for public routes: no token, no login. Default `true`. */
  auth?: boolean;
}
