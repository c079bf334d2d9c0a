import { Injectable, Logger } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { MobileVault } from '../data-protection/mobile-vault';
import { UsersService } from '../users/users.service';
import { callerOpenId } from './caller-open-id';
import type { PhoneNumberRequest } from './dto/phone-number.request';
import type { PhoneNumberResponse } from './dto/phone-number.response';
import { SessionKeyStore } from '../session-keys/session-key.store';
import { type SealedData, WechatCrypto } from './wechat-crypto';
import { WechatServerApi } from './wechat-server-api';
import { DecryptFailedError, PhoneCodeInvalidError, SessionExpiredError, WatermarkMismatchError, WechatBadResponseError } from './wechat.errors';

interface PhoneInfo {
  phoneNumber?: unknown;
  purePhoneNumber?: unknown;
  countryCode?: unknown;
  watermark?: { appid?: unknown };
}

/** `POST /wechat/phone`: the user's phone number from WeChat, saved as their `mobile`. */
@Injectable()
export class WechatPhoneService {
  private readonly logger = new Logger(WechatPhoneService.name);

  constructor(
    private readonly serverApi: WechatServerApi,
    private readonly crypto: WechatCrypto,
    private readonly sessionKeys: SessionKeyStore,
    private readonly users: UsersService,
    private readonly vault: MobileVault,
  ) {}

  /** The caller's identity in the mini program of its token: that app's openid, access token and session key. */
  async resolve(caller: Pick<AuthenticatedUser, 'id' | 'appId'>, request: PhoneNumberRequest): Promise<PhoneNumberResponse> {
    // Legacy data that no session key could open is refused before anything is looked up.
    const sealed = request.code === undefined ? this.crypto.decode(request.encryptedData!, request.iv!) : undefined;
    const openId = await callerOpenId(this.users, caller);
    const phone = sealed ? await this.byEncryptedData(caller.appId, openId, sealed) : await this.byCode(caller.appId, request.code!, openId);
    await this.users.setMobile(caller.id, this.vault.seal(phone.phoneNumber));
    this.logger.log({ userId: caller.id, mobile: this.vault.mask(phone.phoneNumber) }, `phone number ${this.vault.mask(phone.phoneNumber)} saved for user ${caller.id}`);
    return phone;
  }

  /**
   * Current API: `POST /wxa/business/getuserphonenumber` with the button's code and the caller's
   * openid, so WeChat refuses a code that was issued to someone else.
   */
  private async byCode(appId: string, code: string, openId: string): Promise<PhoneNumberResponse> {
    const body = await this.serverApi.call<{ phone_info?: PhoneInfo }>(appId, {
      method: 'POST',
      path: '/wxa/business/getuserphonenumber',
      body: { code, openid: openId },
      codeRejected: (errcode) => new PhoneCodeInvalidError(errcode),
    });
    const info = body.phone_info;
    if (!info) throw new WechatBadResponseError('getuserphonenumber answer lacks phone_info');
    if (info.watermark?.appid !== undefined && info.watermark.appid !== appId) throw new WatermarkMismatchError();
    return phoneFrom(info, () => new WechatBadResponseError('phone_info lacks a valid phoneNumber'));
  }

  /** Legacy: decrypt with the session_key of this user's last login (watermark checked). */
  private async byEncryptedData(appId: string, openId: string, sealed: SealedData): Promise<PhoneNumberResponse> {
    const sessionKey = await this.sessionKeys.get(appId, openId);
    if (!sessionKey) throw new SessionExpiredError();
    return phoneFrom(this.crypto.decrypt(sealed, sessionKey, appId) as PhoneInfo, () => new DecryptFailedError('decrypted data holds no valid phone number'));
  }
}

const PHONE_NUMBER = /^\+?[0-9][0-9 -]{2,30}$/;

function phoneFrom(info: PhoneInfo, missing: () => Error): PhoneNumberResponse {
  const { phoneNumber, purePhoneNumber, countryCode } = info;
  // Stored as `mobile`: digits, spaces, dashes and a leading +, short enough for the column.
  if (typeof phoneNumber !== 'string' || !PHONE_NUMBER.test(phoneNumber)) throw missing();
  return {
    phoneNumber,
    purePhoneNumber: typeof purePhoneNumber === 'string' && purePhoneNumber ? purePhoneNumber : phoneNumber,
    countryCode: typeof countryCode === 'string' || typeof countryCode === 'number' ? String(countryCode) : '86',
  };
}
