import { Injectable } from '@nestjs/common';
import { UnauthorizedError } from '../common/errors/app-error';
import { UsersService } from '../users/users.service';
import { WechatApps } from '../wechat-apps/wechat-apps';
import { type AuthenticatedUser, CLOCK_SKEW_SECONDS, type TokenClaims } from './authenticated-user';

/** A user id as this service writes it: decimal, no sign, no leading zero, within a JavaScript-safe integer. */
const USER_ID = /^[1-9][0-9]{0,15}$/;

/**
 * Decides whether the claims of a correctly signed token still let its bearer in: the claims'
 * shape, its mini program (still configured), then the user's current token version (not revoked,
 * user not deleted).
 *
 * A token issued before several apps existed has no `app` claim: it is a token of the app of its
 * user's first identity (the one app the service had then), else of the first configured app.
 */
@Injectable()
export class TokenValidator {
  constructor(
    private readonly users: UsersService,
    private readonly apps: WechatApps,
  ) {}

  async validate(claims: TokenClaims): Promise<AuthenticatedUser> {
    const id = userIdOf(claims);
    if (claims.app !== undefined && (typeof claims.app !== 'string' || !this.apps.find(claims.app))) throw new UnauthorizedError('Token of a mini program that is not configured');
    const state = await this.users.tokenState(id);
    if (!state || state.deleted) throw new UnauthorizedError('User no longer exists');
    if (state.tokenVersion !== claims.ver) throw new UnauthorizedError('Token has been revoked');
    const appId = claims.app ?? (this.apps.find(state.firstAppId) ?? this.apps.primary).appId;
    return { id, tokenVersion: claims.ver, appId, user: state.user };
  }
}

/** The user id of well-formed claims; UNAUTHORIZED for anything this service would not have issued. */
export function userIdOf(claims: TokenClaims): number {
  const { sub, ver, iat, exp } = claims;
  if (typeof sub !== 'string' || !USER_ID.test(sub) || !Number.isSafeInteger(Number(sub))) throw new UnauthorizedError('Malformed token claims');
  if (!Number.isSafeInteger(ver) || ver < 0) throw new UnauthorizedError('Malformed token claims');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new UnauthorizedError('Token without expiry');
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) throw new UnauthorizedError('Token issued in the future');
  return Number(sub);
}
