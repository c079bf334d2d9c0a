import { ExecutionContext, Inject, Injectable, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { UnauthorizedError } from '../common/errors/app-error';
import type { AuthenticatedUser, TokenClaims } from './authenticated-user';
import { bearerToken } from './bearer-token';
import { IS_PUBLIC } from './decorators/public.decorator';
import { JWT_KEY } from './jwt-key';
import { JWT_REQUEST_CONTEXT, type JwtRequestContext } from './jwt.strategy';
import { TokenValidator } from './token-validator';
import { VerifiedTokenCache } from './verified-token.cache';

/** A route handler, as ExecutionContext.getHandler() returns it. */
type Handler = ReturnType<ExecutionContext['getHandler']>;

type GuardedRequest = { user?: AuthenticatedUser & { claims?: TokenClaims }; headers: Record<string, unknown>; [JWT_REQUEST_CONTEXT]?: JwtRequestContext };

/**
 * Global guard: every route needs a valid bearer token unless marked `@Public()`. New tokens go
 * through passport (`AuthGuard('jwt')`, see JwtStrategy); a token verified once is remembered until it
 * expires (see VerifiedTokenCache), so later requests skip the HMAC and passport's plumbing, the
 * largest costs of a guarded request. The token version is checked on every request either way.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  private readonly verified = new VerifiedTokenCache();
  private readonly publicRoutes = new WeakMap<Type, WeakMap<Handler, boolean>>();
  private readonly jwtContext: JwtRequestContext;

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenValidator,
    @Inject(JWT_KEY) key: KeyObject,
  ) {
    super();
    this.jwtContext = { key, validate: (claims) => tokens.validate(claims) };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context.getClass(), context.getHandler())) return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const token = bearerToken(request);
    const known = token ? this.verified.get(token) : undefined;
    if (known) {
      request.user = await this.tokens.validate(known);
      return true;
    }
    if (token && hasCriticalHeader(token)) throw new UnauthorizedError('Token with critical header extensions');
    request[JWT_REQUEST_CONTEXT] = this.jwtContext;
    await super.canActivate(context);
    const { claims, ...user } = request.user!;
    if (token && claims) this.verified.set(token, claims);
    request.user = user;
    return true;
  }

  /** `@Public()` on the route or its controller; metadata never changes once the app runs, so it is read once per route. */
  private isPublic(controller: Type, handler: Handler): boolean {
    let routes = this.publicRoutes.get(controller);
    if (!routes) this.publicRoutes.set(controller, (routes = new WeakMap()));
    let isPublic = routes.get(handler);
    if (isPublic === undefined) routes.set(handler, (isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, controller]) === true));
    return isPublic;
  }

  /**
   * Missing, malformed, expired, forged: passport-jwt "fails" without an error, and that is a 401.
   * Errors come only from validation (revoked, deleted: 401) or infrastructure (database or cache
   * down: 503), and keep their meaning.
   */
  handleRequest<TUser>(err: unknown, user: TUser): TUser {
    if (err) throw err;
    if (!user) throw new UnauthorizedError();
    return user;
  }
}

/**
 * RFC 7515 §4.1.11: a `crit` header names extensions the verifier must understand; this service
 * understands none, so such a token is refused (jsonwebtoken itself ignores the header).
 */
function hasCriticalHeader(token: string): boolean {
  const dot = token.indexOf('.');
  if (dot <= 0) return false; // malformed: passport-jwt refuses it
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as Record<string, unknown>;
    return typeof header === 'object' && header !== null && 'crit' in header;
  } catch {
    return false;
  }
}
