import { registerDecorator, type ValidationOptions } from 'class-validator';
import { parseJsonObject } from '../../common/parse-json-object';

/** A string holding a JSON object (WeChat's rawData). */
export function IsJsonObjectString(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isJsonObjectString',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be a JSON object string`, ...options },
      validator: {
        validate(value: unknown) {
          return typeof value === 'string' && 'object' in parseJsonObject(value);
        },
      },
    });
}

/** This field excludes the named ones: a request carries one form or the other. */
export function ExcludesFields(fields: string[], options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'excludesFields',
      target: target.constructor,
      propertyName,
      options: { message: `send either ${propertyName} or ${fields.join(' with ')}, not both`, ...options },
      validator: {
        validate(_value: unknown, args) {
          const object = args?.object as Record<string, unknown>;
          return fields.every((f) => object[f] === undefined);
        },
      },
    });
}
