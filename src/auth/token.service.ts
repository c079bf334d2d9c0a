import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectJwtSettings } from '../config/config.module';
import type { JwtSettings } from '../config/configuration';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, type TokenClaims } from './authenticated-user';

export interface IssuedToken {
  token: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Issues the service's own bearer tokens (HS256 JWT). WeChat's session_key never goes into one. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    @InjectJwtSettings() private readonly settings: JwtSettings,
  ) {}

  /** A token of `userId` for the mini program `appId` (its `app` claim). */
  issue(userId: number, tokenVersion: number, appId: string): IssuedToken {
    const claims: TokenClaims = { sub: String(userId), ver: tokenVersion, app: appId };
    const token = this.jwt.sign(claims, { expiresIn: this.settings.expiresInSeconds, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
    return { token, tokenType: 'Bearer', expiresIn: this.settings.expiresInSeconds };
  }
}
