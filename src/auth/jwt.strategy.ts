import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { Strategy } from 'passport-jwt';
import { UnauthorizedError } from '../common/errors/app-error';
import { type AuthenticatedUser, TOKEN_AUDIENCE, TOKEN_ISSUER, type TokenClaims } from './authenticated-user';
import { bearerToken } from './bearer-token';

/** Where the guard puts its application's key and validator on the request for the strategy. */
export const JWT_REQUEST_CONTEXT = Symbol('jwt-request-context');

export interface JwtRequestContext {
  key: KeyObject;
  validate(claims: TokenClaims): Promise<AuthenticatedUser>;
}

type RequestWithContext = { [JWT_REQUEST_CONTEXT]?: JwtRequestContext };

/**
 * passport-jwt, registered as `jwt`: HS256 only (`alg: none` and other algorithms are refused), the
 * service's own issuer and audience, expiry enforced.
 *
 * Passport keeps strategies in one process-wide registry, where the last application created would
 * win; so the strategy holds no application state. The key and the validation come from the request
 * (`secretOrKeyProvider`, `passReqToCallback`), put there by the JwtAuthGuard of the application that
 * serves it: several applications in one process (as in tests) each check their own tokens.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({
      // The guard's own strict extractor (see bearerToken), so both read the header alike.
      jwtFromRequest: bearerToken,
      // jsonwebtoken takes a KeyObject (its types say string | Buffer): ~50x faster than a string secret.
      secretOrKeyProvider: (request: RequestWithContext, _token: string, done: (err: unknown, key?: string) => void) => {
        const context = request[JWT_REQUEST_CONTEXT];
        if (context) done(null, context.key as unknown as string);
        else done(new UnauthorizedError());
      },
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  /** The caller of a verified token, with the claims so the guard can remember the token. */
  async validate(request: RequestWithContext, claims: TokenClaims): Promise<AuthenticatedUser & { claims: TokenClaims }> {
    return { ...(await request[JWT_REQUEST_CONTEXT]!.validate(claims)), claims };
  }
}
