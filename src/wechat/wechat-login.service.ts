import { Injectable, Logger } from '@nestjs/common';
import { TokenService } from '../auth/token.service';
import { codePointLength, textProblem, truncateCodePoints } from '../common/text';
import { SessionKeyStore } from '../session-keys/session-key.store';
import { MobileVault } from '../data-protection/mobile-vault';
import { UserDto } from '../users/dto/user.dto';
import { UsersService, type WechatProfile } from '../users/users.service';
import { WechatApps } from '../wechat-apps/wechat-apps';
import type { LoginResponse } from './dto/login.response';
import type { WechatLoginRequest } from './dto/wechat-login.request';
import { WECHAT_ID_MAX, WechatApiClient } from './wechat-api.client';
import { WechatCrypto } from './wechat-crypto';
import { WatermarkMismatchError, WechatBadResponseError } from './wechat.errors';

/**
 * Since 2022 `wx.getUserInfo` answers with these placeholders instead of the user's profile: they say
 * nothing about the user and must never replace what is stored.
 */
export const PLACEHOLDER_NICKNAME = '微信用户';
export const PLACEHOLDER_AVATAR_URL = 'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132';

/**
 * `POST /wechat/login`: app → code → session → verified profile → the user of this identity → token
 * of this app.
 * Every check runs before the session key is stored and before the database is written, so a failed
 * login writes nothing to the database and leaves no session key behind.
 */
@Injectable()
export class WechatLoginService {
  private readonly logger = new Logger(WechatLoginService.name);
  /** The field's name and what is wrong with it, never its value (a profile is personal data). */
  private readonly dropField = (field: string, problem: string) => this.logger.warn({ field }, `${field} ${problem}: left out of the profile`);

  constructor(
    private readonly api: WechatApiClient,
    private readonly crypto: WechatCrypto,
    private readonly users: UsersService,
    private readonly sessionKeys: SessionKeyStore,
    private readonly tokens: TokenService,
    private readonly vault: MobileVault,
    private readonly apps: WechatApps,
  ) {}

  async login(request: WechatLoginRequest): Promise<LoginResponse> {
    // Before WeChat is asked: a missing or unknown appId spends no code.
    const app = this.apps.resolve(request.appId);
    // Nor does encrypted data that no session key could open (bad base64, an iv not of 16 bytes).
    const sealed = request.encryptedData !== undefined ? this.crypto.decode(request.encryptedData, request.iv!) : undefined;
    const session = await this.api.code2Session(app, request.code);
    let profile: WechatProfile = {};
    let unionId = session.unionId;

    if (request.rawData !== undefined) {
      this.crypto.verifySignature(request.rawData, request.signature!, session.sessionKey);
      profile = profileFrom(JSON.parse(request.rawData), 'rawData', this.dropField);
    }
    if (sealed) {
      const data = this.crypto.decrypt(sealed, session.sessionKey, app.appId);
      if (typeof data.openId === 'string' && data.openId !== session.openId) {
        throw new WatermarkMismatchError('encryptedData belongs to another user');
      }
      // The encrypted copy is authoritative: it wins over rawData field by field.
      profile = { ...profile, ...profileFrom(data, 'encryptedData', this.dropField) };
      if (typeof data.unionId === 'string' && data.unionId) unionId = storable(data.unionId, WECHAT_ID_MAX, 'encryptedData unionId');
    }

    // The session key is WeChat's newest for this openid whatever happens next (the code is spent).
    // In Redis it is stored before the row, so a cache failure fails the login before the database is
    // touched, and dropped again if the row cannot be written; in the database it is written by the
    // login's own statement.
    const sessionKey = await this.sessionKeys.keepForLogin(app.appId, session.openId, session.sessionKey);
    let written: Awaited<ReturnType<UsersService['upsertOnLogin']>>;
    try {
      written = await this.users.upsertOnLogin(app.appId, session.openId, unionId, profile, sessionKey.row);
    } catch (err) {
      await sessionKey.undo().catch(() => undefined);
      throw err;
    }
    return { ...this.tokens.issue(written.user.id, written.tokenVersion, app.appId), user: UserDto.forApp(this.vault.reveal(written.user), app.appId) };
  }
}

/** `value` if a column of `max` characters can hold it; a 400 naming the field otherwise. */
/**
 * An identifier from encryptedData, which only WeChat can have sealed (the client never sees the
 * session key): one no column could hold is WeChat's fault, as the same value from jscode2session is.
 */
function storable(value: string, max: number, field: string): string {
  const problem = textProblem(value, max);
  if (problem) throw new WechatBadResponseError(`${field} ${problem}`);
  return value;
}

/**
 * WeChat's userInfo fields. Empty, malformed and placeholder values count as "not given", and so
 * does text the database would refuse (NUL, control characters, a lone surrogate), reported to
 * `dropped`: the code is spent by now, and one odd field must not keep the user from logging in.
 * Longer text is cut to the column, by characters.
 */
function profileFrom(data: Record<string, unknown>, source: string, dropped: (field: string, problem: string) => void): WechatProfile {
  const text = (name: string, max: number) => {
    const value = data[name];
    if (typeof value !== 'string' || !value.trim()) return undefined;
    const problem = textProblem(value, Number.MAX_SAFE_INTEGER);
    if (problem) {
      dropped(`${source} ${name}`, problem);
      return undefined;
    }
    return truncateCodePoints(value.trim(), max);
  };
  const nickname = text('nickName', 64);
  // A URL cut short would point elsewhere: an over-long one counts as not given.
  const avatar = data.avatarUrl === PLACEHOLDER_AVATAR_URL ? undefined : text('avatarUrl', Number.MAX_SAFE_INTEGER);
  const gender = data.gender;
  const profile: WechatProfile = {
    nickname: nickname === PLACEHOLDER_NICKNAME ? undefined : nickname,
    avatarUrl: avatar && /^https?:\/\//i.test(avatar) && codePointLength(avatar) <= 500 ? avatar : undefined,
    // 0 means "unknown": the placeholder gender says nothing.
    gender: gender === 1 || gender === 2 ? gender : undefined,
    country: text('country', 100),
    province: text('province', 100),
    city: text('city', 100),
  };
  return Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined));
}
