import { AppError } from '../common/errors/app-error';

/** WeChat rejected the login code (40029 invalid, 40163 already used). */
export class WechatCodeInvalidError extends AppError {
  constructor(readonly errcode: number) {
    super('WECHAT_CODE_INVALID', `WeChat rejected the login code (errcode ${errcode})`);
  }
}
/** WeChat rejected a getPhoneNumber code. */
export class PhoneCodeInvalidError extends AppError {
  constructor(readonly errcode: number) {
    super('PHONE_CODE_INVALID', `WeChat rejected the phone code (errcode ${errcode})`);
  }
}
export class WechatUserBlockedError extends AppError {
  constructor() {
    super('WECHAT_USER_BLOCKED', 'WeChat flagged this user as high risk (errcode 40226)');
  }
}
export class WechatRateLimitedError extends AppError {
  constructor() {
    super('WECHAT_RATE_LIMITED', 'WeChat rate limit reached (errcode 45011), retry later');
  }
}
export class WechatUnavailableError extends AppError {
  constructor(reason: string, cause?: unknown) {
    super('WECHAT_UNAVAILABLE', `WeChat is unavailable: ${reason}`, { cause });
  }
}
export class WechatBadResponseError extends AppError {
  constructor(
    reason: string,
    readonly errcode?: number,
  ) {
    super('WECHAT_BAD_RESPONSE', `Unexpected answer from WeChat: ${reason}`);
  }
}
/** An access token WeChat no longer accepts (40001, 42001, 40014): refresh and retry once. */
export class WechatAccessTokenRejectedError extends WechatBadResponseError {
  constructor(errcode: number) {
    super(`access token rejected (errcode ${errcode})`, errcode);
  }
}
export class SignatureMismatchError extends AppError {
  constructor() {
    super('SIGNATURE_MISMATCH', 'signature does not match rawData');
  }
}
export class DecryptFailedError extends AppError {
  constructor(reason: string) {
    super('DECRYPT_FAILED', `encryptedData could not be decrypted: ${reason}`);
  }
}
export class WatermarkMismatchError extends AppError {
  constructor(reason = 'watermark.appid is not this mini program') {
    super('WATERMARK_MISMATCH', `encryptedData rejected: ${reason}`);
  }
}
export class SessionExpiredError extends AppError {
  constructor() {
    super('SESSION_EXPIRED', 'No WeChat session for this user, call wx.login and log in again');
  }
}
