import { registerDecorator, type ValidationOptions } from 'class-validator';
import { parseJsonObject } from '../../common/parse-json-object';
import { isStandardBase64 } from '../../common/base64';

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

/** Standard base64 that decodes to exactly `bytes` bytes (when given) or to at least one byte. */
export function IsBase64Bytes(bytes?: number, options?: ValidationOptions): PropertyDecorator {
  return (target, key) => {
    const propertyName = String(key);
    registerDecorator({
      name: 'isBase64Bytes',
      target: target.constructor,
      propertyName,
      options: { message: bytes ? `${propertyName} must be base64 of ${bytes} bytes` : `${propertyName} must be base64`, ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string' || value.length === 0 || !isStandardBase64(value)) return false;
          return bytes === undefined || Buffer.from(value, 'base64').length === bytes;
        },
      },
    });
  };
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
