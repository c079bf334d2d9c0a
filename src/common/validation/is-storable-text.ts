import { registerDecorator, type ValidationOptions } from 'class-validator';
import { textProblem } from '../text';

/**
 * A string the database can store in a column of `max` characters: valid Unicode, no NUL or other
 * control characters, at most `max` code points (PostgreSQL counts those, not UTF-16 units).
 */
export function IsStorableText(max: number, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isStorableText',
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && textProblem(value, max) === undefined,
        defaultMessage: (args) => {
          const value = args?.value;
          return typeof value === 'string' ? `${propertyName} ${textProblem(value, max)}` : `${propertyName} must be a string`;
        },
      },
    });
}
