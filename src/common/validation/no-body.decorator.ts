import { type CanActivate, type ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ValidationError } from 'class-validator';
import { ValidationFailedError } from '../errors/app-error';
import { describeValidationErrors } from './validation-pipe';

/**
 * For a route that takes no body: no body, an empty one (wx.request sends `content-type:
 * application/json` without data), `{}` or `null` pass; anything else is a VALIDATION_FAILED worded as
 * the global ValidationPipe words unknown fields. A DTO without properties cannot do it: with
 * `forbidUnknownValues` class-validator refuses even `{}` for a class it knows no constraint of.
 * A guard, so it runs after the JwtAuthGuard (a request without a token is a 401 first, as elsewhere)
 * and before the handler does anything.
 */
export const NoBody = () => UseGuards(NoBodyGuard);

@Injectable()
export class NoBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { body } = context.switchToHttp().getRequest<{ body?: unknown }>();
    if (body === undefined || body === null) return true;
    if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationFailedError(describeValidationErrors([]));
    const fields = Object.keys(body);
    if (fields.length === 0) return true;
    throw new ValidationFailedError(describeValidationErrors(fields.map(unknownField)));
  }
}

function unknownField(property: string): ValidationError {
  return Object.assign(new ValidationError(), { property, constraints: { whitelistValidation: `property ${property} should not exist` } });
}
