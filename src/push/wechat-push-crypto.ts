import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { PushDecryptFailedError } from './push.errors';
import { isStandardBase64 } from '../common/base64';

/** WeChat's EncodingAESKey: 43 characters of base64 (the 32-byte key without its trailing "="). */
export const ENCODING_AES_KEY = /^[A-Za-z0-9+/]{43}$/;
/** WXBizMsgCrypt pads to 32-byte blocks (not AES's 16), so padding values run from 1 to 32. */
const BLOCK = 32;

/**
 * WeChat's message-push crypto, as its WXBizMsgCrypt samples implement it:
 * - signatures: hex SHA-1 of the lexically sorted [token, timestamp, nonce(, Encrypt)] concatenated;
 * - safe mode: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = the key's first 16 bytes,
 *   PKCS#7 padding to 32-byte blocks, plaintext = 16 random bytes ‖ message length (4 bytes,
 *   big-endian) ‖ message ‖ appid. The appid at the end must be ours.
 * Both directions are here: the service decrypts what WeChat sends, the sandbox encrypts like WeChat.
 */
export class WechatPushCrypto {
  private readonly key: Buffer | undefined;

  /** `encodingAesKey` may be omitted when only plain mode is used. */
  constructor(
    private readonly token: string,
    encodingAesKey: string | undefined,
    readonly appId: string,
  ) {
    if (encodingAesKey !== undefined) {
      if (!ENCODING_AES_KEY.test(encodingAesKey)) throw new Error('EncodingAESKey must be 43 base64 characters');
      this.key = Buffer.from(encodingAesKey + '=', 'base64');
    }
  }

  get canDecrypt(): boolean {
    return this.key !== undefined;
  }

  /** hex SHA-1 over the sorted parts, as WeChat signs URL checks, plain pushes and (with Encrypt) safe pushes. */
  sign(timestamp: string, nonce: string, encrypt?: string): string {
    const parts = encrypt === undefined ? [this.token, timestamp, nonce] : [this.token, timestamp, nonce, encrypt];
    return createHash('sha1').update(parts.sort().join(''), 'utf8').digest('hex');
  }

  /** Constant-time comparison of a given signature with the expected one. */
  verify(signature: string, timestamp: string, nonce: string, encrypt?: string): boolean {
    const expected = Buffer.from(this.sign(timestamp, nonce, encrypt), 'utf8');
    const given = Buffer.from(signature.toLowerCase(), 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Opens an `Encrypt` value; the appid it carries must be ours. Returns the message text. */
  decrypt(encrypt: string): string {
    const key = this.requireKey();
    const compact = encrypt.replace(/\s+/g, '');
    if (!isStandardBase64(compact)) throw new PushDecryptFailedError('Encrypt is not base64');
    const data = Buffer.from(compact, 'base64');
    if (data.length === 0 || data.length % 16 !== 0) throw new PushDecryptFailedError('Encrypt is not a whole number of AES blocks');

    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false); // 32-byte PKCS#7, checked below
    const plain = Buffer.concat([decipher.update(data), decipher.final()]);
    const pad = plain[plain.length - 1];
    if (pad < 1 || pad > BLOCK || pad > plain.length) throw new PushDecryptFailedError('bad padding (wrong EncodingAESKey?)');
    let badPad = 0;
    for (let i = plain.length - pad; i < plain.length; i++) badPad |= plain[i] ^ pad;
    if (badPad !== 0) throw new PushDecryptFailedError('bad padding (wrong EncodingAESKey?)');
    const content = plain.subarray(0, plain.length - pad);
    if (content.length < 20) throw new PushDecryptFailedError('plaintext too short');
    const length = content.readUInt32BE(16);
    if (20 + length > content.length) throw new PushDecryptFailedError('message length out of range');
    const appId = content.subarray(20 + length);
    const ours = Buffer.from(this.appId, 'utf8');
    if (appId.length !== ours.length || !timingSafeEqual(appId, ours)) throw new PushDecryptFailedError('the message is not addressed to this mini program (appid)');
    return content.subarray(20, 20 + length).toString('utf8');
  }

  /** Encrypts a message as WeChat does (`random` is for tests that need a fixed output). */
  encrypt(message: string, random: Buffer = randomBytes(16)): string {
    const key = this.requireKey();
    const body = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length, 0);
    const content = Buffer.concat([random, length, body, Buffer.from(this.appId, 'utf8')]);
    const pad = BLOCK - (content.length % BLOCK);
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(Buffer.concat([content, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
  }

  private requireKey(): Buffer {
    if (!this.key) throw new PushDecryptFailedError('no EncodingAESKey is configured (WECHAT_PUSH_AES_KEY)');
    return this.key;
  }
}
