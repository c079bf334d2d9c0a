import { Injectable } from '@nestjs/common';
import { createDecipheriv, hash, timingSafeEqual } from 'node:crypto';
import { parseJsonObject } from '../common/parse-json-object';
import { DecryptFailedError, SignatureMismatchError, WatermarkMismatchError } from './wechat.errors';
import { isStandardBase64 } from '../common/base64';

/** Strict standard base64 (what WeChat sends); Buffer.from alone would silently skip bad characters. */
export function decodeBase64(value: string, what: string): Buffer {
  if (!isStandardBase64(value)) throw new DecryptFailedError(`${what} is not valid base64`);
  return Buffer.from(value, 'base64');
}

/** encryptedData and its iv, decoded and of a decryptable shape (see WechatCrypto.decode). */
export interface SealedData {
  data: Buffer;
  iv: Buffer;
}

/**
 * WeChat's open-data crypto (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html):
 * rawData signatures and AES-128-CBC encrypted user data, both keyed by the login's session_key.
 */
@Injectable()
export class WechatCrypto {
  /** `signature` must be sha1(rawData + session_key) in hex; compared in constant time. */
  verifySignature(rawData: string, signature: string, sessionKey: string): void {
    const expected = hash('sha1', rawData + sessionKey, 'buffer');
    const given = Buffer.from(signature.toLowerCase(), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SignatureMismatchError();
  }

  /**
   * encryptedData and its iv as bytes, or DECRYPT_FAILED: not base64, an iv that is not 16 bytes,
   * data that is not whole AES blocks. It needs no key, so it runs before a login code is spent.
   */
  decode(encryptedData: string, iv: string): SealedData {
    const ivBytes = decodeBase64(iv, 'iv');
    if (ivBytes.length !== 16) throw new DecryptFailedError('iv is not 16 bytes');
    const data = decodeBase64(encryptedData, 'encryptedData');
    if (data.length === 0 || data.length % 16 !== 0) throw new DecryptFailedError('encryptedData is not a whole number of AES blocks');
    return { data, iv: ivBytes };
  }

  /**
   * Decrypts encryptedData (AES-128-CBC, PKCS#7, key = base64-decoded session_key) into its JSON
   * object and checks that its watermark names the mini program `appId` (the one the session is of).
   */
  decrypt(sealed: SealedData, sessionKey: string, appId: string): Record<string, unknown> {
    const key = decodeBase64(sessionKey, 'session_key');
    if (key.length !== 16) throw new DecryptFailedError('session_key is not 16 bytes');

    let plaintext: string;
    try {
      const decipher = createDecipheriv('aes-128-cbc', key, sealed.iv);
      plaintext = Buffer.concat([decipher.update(sealed.data), decipher.final()]).toString('utf8');
    } catch {
      // A wrong key or iv shows up as bad padding.
      throw new DecryptFailedError('bad padding (wrong session_key or iv)');
    }
    const parsed = parseJsonObject(plaintext);
    if ('problem' in parsed) throw new DecryptFailedError(`plaintext ${parsed.problem}`);
    const watermark = (parsed.object as { watermark?: { appid?: unknown } }).watermark;
    if (watermark?.appid !== appId) throw new WatermarkMismatchError();
    return parsed.object;
  }
}
