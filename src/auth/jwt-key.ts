import { createSecretKey, type KeyObject } from 'node:crypto';

export const JWT_KEY = Symbol('JWT_KEY');

/**
 * The HS256 key as a KeyObject: jsonwebtoken verifies a plain string secret by first trying (and
 * failing) to parse it as a public key, ~50x slower per request than with a KeyObject.
 */
export function jwtKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}
