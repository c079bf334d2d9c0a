import type { TokenClaims } from './authenticated-user';

const MAX_ENTRIES = 10_000;

/**
 * Tokens whose signature this process has already verified, with their claims, until they expire.
 * A client sends the same token with every request; checking its HMAC (and decoding it twice, as
 * jsonwebtoken does) each time was the largest single cost of a guarded request. The key is the
 * whole token, signature included, so only a token identical to a verified one can match.
 * Revocation is unaffected: the token version is still checked on every request.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, TokenClaims>();

  get(token: string): TokenClaims | undefined {
    const claims = this.entries.get(token);
    if (!claims) return undefined;
    if (claims.exp !== undefined && claims.exp * 1000 <= Date.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return claims;
  }

  set(token: string, claims: TokenClaims): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, claims);
  }
}
