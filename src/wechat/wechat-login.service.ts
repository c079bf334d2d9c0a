import { Injectable } from '@nestjs/common';
import { TokenService } from '../auth/token.service';
import { TokenVersionStore } from '../auth/token-version.store';
import { MobileVault } from '../data-protection/mobile-vault';
import { UsersService, type WechatProfile } from '../users/users.service';
import type { LoginResponse } from './dto/login.response';
import type { WechatLoginRequest } from './dto/wechat-login.request';
import { SessionKeyStore } from './session-key.store';
import { WechatApiClient } from './wechat-api.client';
import { WechatCrypto } from './wechat-crypto';
import { WatermarkMismatchError } from './wechat.errors';

/**
 * `POST /wechat/login` (CONTRACT §3): code → session → verified profile → one upserted row → token.
 * Every check, and the first cache write, runs before the single database statement, so a failed
 * login writes nothing to the database.
 */
@Injectable()
export class WechatLoginService {
  constructor(
    private readonly api: WechatApiClient,
    private readonly crypto: WechatCrypto,
    private readonly users: UsersService,
    private readonly sessionKeys: SessionKeyStore,
    private readonly tokens: TokenService,
    private readonly versions: TokenVersionStore,
    private readonly vault: MobileVault,
  ) {}

  async login(request: WechatLoginRequest): Promise<LoginResponse> {
    const session = await this.api.code2Session(request.code);
    let profile: WechatProfile = {};
    let unionId = session.unionId;

    if (request.rawData !== undefined) {
      this.crypto.verifySignature(request.rawData, request.signature!, session.sessionKey);
      profile = profileFrom(JSON.parse(request.rawData));
    }
    if (request.encryptedData !== undefined) {
      const data = this.crypto.decrypt(request.encryptedData, request.iv!, session.sessionKey);
      if (typeof data.openId === 'string' && data.openId !== session.openId) {
        throw new WatermarkMismatchError('encryptedData belongs to another user');
      }
      // The encrypted copy is authoritative: it wins over rawData field by field.
      profile = { ...profile, ...profileFrom(data) };
      if (typeof data.unionId === 'string' && data.unionId) unionId = data.unionId;
    }

    // The session key goes to the cache first: with the cache down the login fails before the
    // database is touched. It is WeChat's newest key for this openid whatever happens next.
    await this.sessionKeys.save(session.openId, session.sessionKey);
    const { user, tokenVersion } = await this.users.upsertOnLogin(session.openId, unionId, profile);
    await this.versions.remember(user.id, tokenVersion);
    return { ...this.tokens.issue(user.id, tokenVersion), user: this.vault.reveal(user) };
  }
}

/** WeChat's userInfo fields; empty or malformed values count as "not given". */
function profileFrom(data: Record<string, unknown>): WechatProfile {
  const text = (value: unknown, max: number) => (typeof value === 'string' && value.trim() ? value.trim().slice(0, max) : undefined);
  const avatar = text(data.avatarUrl, 500);
  const gender = data.gender;
  const profile: WechatProfile = {
    nickname: text(data.nickName, 64),
    avatarUrl: avatar && /^https?:\/\//i.test(avatar) ? avatar : undefined,
    gender: gender === 0 || gender === 1 || gender === 2 ? gender : undefined,
    country: text(data.country, 100),
    province: text(data.province, 100),
    city: text(data.city, 100),
  };
  return Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined));
}
