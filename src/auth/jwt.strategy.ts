import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { UnauthorizedError } from '../common/errors/app-error';
import type { AuthenticatedUser, TokenClaims } from './authenticated-user';
import { JWT_KEY } from './jwt-key';
import { TokenVersionStore } from './token-version.store';

/** Verifies the bearer JWT (HS256 only: `alg: none` and other algorithms are refused) and its version. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(JWT_KEY) key: KeyObject,
    private readonly versions: TokenVersionStore,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: key as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  /** The caller of a verified token, if the token is still current (not revoked, user not deleted). */
  async validate(claims: TokenClaims): Promise<AuthenticatedUser & { claims: TokenClaims }> {
    const id = Number(claims.sub);
    if (!Number.isSafeInteger(id) || id <= 0 || !Number.isInteger(claims.ver)) throw new UnauthorizedError('Malformed token claims');
    const current = await this.versions.current(id);
    if (current === undefined) throw new UnauthorizedError('User no longer exists');
    if (current !== claims.ver) throw new UnauthorizedError('Token has been revoked');
    // `claims` lets the guard remember the verified token; it strips them before handlers see the user.
    return { id, tokenVersion: claims.ver, claims };
  }
}
