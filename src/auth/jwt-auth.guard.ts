import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AppError, UnauthorizedError } from '../common/errors/app-error';
import { IS_PUBLIC } from './decorators/public.decorator';

/** Global guard: every route needs a valid bearer token unless marked `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    return super.canActivate(context);
  }

  handleRequest<T>(err: unknown, user: T | false): T {
    // Errors from validate() (revoked, deleted) and infrastructure errors keep their meaning;
    // anything passport-jwt reports (missing, malformed, expired, bad signature) is a plain 401.
    if (err instanceof AppError) throw err;
    if (err) throw err;
    if (!user) throw new UnauthorizedError();
    return user;
  }
}
