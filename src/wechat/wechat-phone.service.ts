import { Injectable, Logger } from '@nestjs/common';
import { UnauthorizedError } from '../common/errors/app-error';
import { MobileVault } from '../data-protection/mobile-vault';
import { UsersService } from '../users/users.service';
import type { PhoneNumberRequest } from './dto/phone-number.request';
import type { PhoneNumberResponse } from './dto/phone-number.response';
import { SessionKeyStore } from './session-key.store';
import { WechatCrypto } from './wechat-crypto';
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

  async resolve(userId: number, request: PhoneNumberRequest): Promise<PhoneNumberResponse> {
    const phone = request.code !== undefined ? await this.byCode(request.code) : await this.byEncryptedData(userId, request.encryptedData!, request.iv!);
    await this.users.setMobile(userId, this.vault.seal(phone.phoneNumber));
    this.logger.log({ userId, mobile: this.vault.mask(phone.phoneNumber) }, `phone number ${this.vault.mask(phone.phoneNumber)} saved for user ${userId}`);
    return phone;
  }

  /** Current API: `POST /wxa/business/getuserphonenumber` with the button's code. */
  private async byCode(code: string): Promise<PhoneNumberResponse> {
    const body = await this.serverApi.call<{ phone_info?: PhoneInfo }>({
      method: 'POST',
      path: '/wxa/business/getuserphonenumber',
      body: { code },
      codeRejected: (errcode) => new PhoneCodeInvalidError(errcode),
    });
    const info = body.phone_info;
    if (!info) throw new WechatBadResponseError('getuserphonenumber answer lacks phone_info');
    if (info.watermark?.appid !== undefined && info.watermark.appid !== this.crypto.appId) throw new WatermarkMismatchError();
    return phoneFrom(info, () => new WechatBadResponseError('phone_info lacks phoneNumber'));
  }

  /** Legacy: decrypt with the session_key of this user's last login (watermark checked). */
  private async byEncryptedData(userId: number, encryptedData: string, iv: string): Promise<PhoneNumberResponse> {
    const user = await this.users.findActive(userId);
    if (!user) throw new UnauthorizedError('User no longer exists');
    const sessionKey = await this.sessionKeys.get(user.openId);
    if (!sessionKey) throw new SessionExpiredError();
    return phoneFrom(this.crypto.decrypt(encryptedData, iv, sessionKey) as PhoneInfo, () => new DecryptFailedError('decrypted data holds no phone number'));
  }
}

function phoneFrom(info: PhoneInfo, missing: () => Error): PhoneNumberResponse {
  const { phoneNumber, purePhoneNumber, countryCode } = info;
  if (typeof phoneNumber !== 'string' || !phoneNumber) throw missing();
  return {
    phoneNumber,
    purePhoneNumber: typeof purePhoneNumber === 'string' && purePhoneNumber ? purePhoneNumber : phoneNumber,
    countryCode: typeof countryCode === 'string' || typeof countryCode === 'number' ? String(countryCode) : '86',
  };
}
