import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError, UnauthorizedError } from '../common/errors/app-error';
import type { AuthenticatedUser } from './authenticated-user';
import { IS_PUBLIC } from './decorators/public.decorator';
import { JwtStrategy } from './jwt.strategy';

/**
 * Global guard: every route needs a valid bearer token unless marked `@Public()`.
 *
 * It runs this app's own passport-jwt strategy instance the way passport does (a per-request object
 * with success/fail/error), instead of going through passport's process-wide strategy registry:
 * there the last app created wins, which breaks several app instances in one process, and the
 * registry lookup and middleware plumbing cost time on every guarded request.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>();
    request.user = await authenticate(this.strategy, request);
    return true;
  }
}

function authenticate(strategy: JwtStrategy, request: object): Promise<AuthenticatedUser> {
  return new Promise((resolve, reject) => {
    const attempt = Object.create(strategy) as JwtStrategy & {
      success(user: AuthenticatedUser): void;
      fail(): void;
      error(err: unknown): void;
      authenticate(req: object, options: object): void;
    };
    attempt.success = resolve;
    // Missing, malformed, expired, forged: passport-jwt "fails" without saying more than that.
    attempt.fail = () => reject(new UnauthorizedError());
    // Errors of validate() (revoked, deleted) and of infrastructure keep their meaning.
    attempt.error = (err) => reject(err instanceof AppError ? err : err instanceof Error ? err : new UnauthorizedError());
    attempt.authenticate(request, {});
  });
}
