import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { UnauthorizedError } from '../common/errors/app-error';
import { UsersService } from '../users/users.service';
import { type AuthenticatedUser, CLOCK_SKEW_SECONDS, TOKEN_AUDIENCE, TOKEN_ISSUER, type TokenClaims } from './authenticated-user';
import { JWT_KEY } from './jwt-key';

/** A user id as this service writes it: decimal, no sign, no leading zero, within a JavaScript-safe bigint. */
const USER_ID = /^[1-9][0-9]{0,15}$/;

/**
 * Verifies the bearer JWT: HS256 only (`alg: none` and other algorithms are refused), our issuer and
 * audience, and `exp` required; then the claims' shape and the token version.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(JWT_KEY) key: KeyObject,
    private readonly users: UsersService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: key as unknown as string,
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      ignoreExpiration: false,
    });
  }

  /** The caller of a verified token, if the token is still current (not revoked, user not deleted). */
  async validate(claims: TokenClaims): Promise<AuthenticatedUser & { claims: TokenClaims }> {
    const id = userIdOf(claims);
    const state = await this.users.tokenState(id);
    if (!state || state.deleted) throw new UnauthorizedError('User no longer exists');
    if (state.tokenVersion !== claims.ver) throw new UnauthorizedError('Token has been revoked');
    // `claims` lets the guard remember the verified token; it strips them before handlers see the user.
    return { id, tokenVersion: claims.ver, claims };
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
