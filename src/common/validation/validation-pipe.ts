import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidationFailedError } from '../errors/app-error';

/** At most this many problems in one validation error message. */
export const MAX_VALIDATION_PROBLEMS = 10;

/**
 * The app's global pipe: DTOs are instances of their class, unknown fields are refused, and a
 * failure is one VALIDATION_FAILED naming the fields (see describeValidationErrors).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => new ValidationFailedError(describeValidationErrors(errors)),
  });
}

/** One message naming the failed fields: at most MAX_VALIDATION_PROBLEMS, then how many more. */
export function describeValidationErrors(errors: ValidationError[]): string {
  const parts: string[] = [];
  collectProblems(errors, '', parts);
  if (parts.length === 0) return 'request body must be a JSON object';
  const shown = parts.slice(0, MAX_VALIDATION_PROBLEMS).join('; ');
  return parts.length > MAX_VALIDATION_PROBLEMS ? `${shown}; and ${parts.length - MAX_VALIDATION_PROBLEMS} more` : shown;
}

function collectProblems(errors: ValidationError[], prefix: string, parts: string[]): void {
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) parts.push(...Object.values(e.constraints));
    if (e.children?.length) collectProblems(e.children, path, parts);
    if (!e.constraints && !e.children?.length) parts.push(`${path} is invalid`);
  }
}
