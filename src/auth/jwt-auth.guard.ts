import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExtractJwt } from 'passport-jwt';
import { AppError, UnauthorizedError } from '../common/errors/app-error';
import type { AuthenticatedUser, TokenClaims } from './authenticated-user';
import { IS_PUBLIC } from './decorators/public.decorator';
import { JwtStrategy } from './jwt.strategy';
import { VerifiedTokenCache } from './verified-token.cache';

const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * Global guard: every route needs a valid bearer token unless marked `@Public()`.
 *
 * It runs this app's own passport-jwt strategy instance the way passport does (a per-request object
 * with success/fail/error), instead of going through passport's process-wide strategy registry:
 * there the last app created wins, which breaks several app instances in one process, and the
 * registry lookup and middleware plumbing cost time on every guarded request. A token verified
 * once is remembered until it expires (see VerifiedTokenCache); its version is checked every time.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly verified = new VerifiedTokenCache();

  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<{ user?: AuthenticatedUser; headers: Record<string, unknown> }>();
    const token = bearerToken(request);
    const known = token ? this.verified.get(token) : undefined;
    if (known) {
      const { id, tokenVersion } = await this.strategy.validate(known);
      request.user = { id, tokenVersion };
    } else {
      if (token && hasCriticalHeader(token)) throw new UnauthorizedError('Token with critical header extensions');
      const { user, claims } = await authenticate(this.strategy, request);
      if (token) this.verified.set(token, claims);
      request.user = user;
    }
    return true;
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

function authenticate(strategy: JwtStrategy, request: object): Promise<{ user: AuthenticatedUser; claims: TokenClaims }> {
  return new Promise((resolve, reject) => {
    const attempt = Object.create(strategy) as JwtStrategy & {
      success(user: AuthenticatedUser & { claims?: TokenClaims }): void;
      fail(): void;
      error(err: unknown): void;
      authenticate(req: object, options: object): void;
    };
    attempt.success = ({ claims, ...user }) => resolve({ user, claims: claims! });
    // Missing, malformed, expired, forged: passport-jwt "fails" without saying more than that.
    attempt.fail = () => reject(new UnauthorizedError());
    // Errors of validate() (revoked, deleted) and of infrastructure keep their meaning.
    attempt.error = (err) => reject(err instanceof AppError ? err : err instanceof Error ? err : new UnauthorizedError());
    attempt.authenticate(request, {});
  });
}
