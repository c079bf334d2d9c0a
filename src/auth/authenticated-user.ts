/** What a guarded handler knows about its caller (via `@CurrentUser()`). */
export interface AuthenticatedUser {
  id: number;
  /** The token version the request's JWT carries (equal to the user's current one). */
  tokenVersion: number;
}

/** Claims of the tokens this service issues: `sub` is the user id, `ver` its token version. */
export interface TokenClaims {
  sub: string;
  ver: number;
  iat?: number;
  exp?: number;
}
