import type { UserDto } from '../users/dto/user.dto';

/** What a guarded handler knows about its caller (via `@CurrentUser()`). */
export interface AuthenticatedUser {
  id: number;
  /** The token version the request's JWT carries (equal to the user's current one). */
  tokenVersion: number;
  /** The mini program the token was issued for (its `app` claim): the caller's openid, session key and access token are this app's. */
  appId: string;
  /** The user as read when this request's token was checked (active then); saves a handler a second read. */
  user?: UserDto;
}

/** Claims of the tokens this service issues: `sub` is the user id, `ver` its token version. */
export interface TokenClaims {
  sub: string;
  ver: number;
  /** The mini program the token was issued for; absent in tokens issued before several apps existed. */
  app?: string;
  iat?: number;
  exp?: number;
  iss?: string;
  aud?: string | string[];
}

/** Fixed by the service: a token of another issuer or for another audience is refused. */
export const TOKEN_ISSUER = 'wechat-miniprogram-login';
export const TOKEN_AUDIENCE = 'wechat-miniprogram-api';
/** Clocks of issuing and checking instances may differ this much. */
export const CLOCK_SKEW_SECONDS = 60;
