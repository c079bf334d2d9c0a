import { Injectable } from '@nestjs/common';
import sjson from 'secure-json-parse';
import { type AppError, ValidationFailedError } from '../common/errors/app-error';
import { MalformedBody } from '../common/http/json-body-parser';
import { isXmlBody } from './push-body-parser';
import { PushClock } from './push-clock';
import { parsePushXml, PushXmlError } from './push-xml';
import { PushDecryptFailedError, PushSignatureMismatchError } from './push.errors';
import type { WechatPushCrypto } from './wechat-push-crypto';

/** WeChat's replay window: a push signed more than this far from now is refused. */
export const PUSH_MAX_AGE_SECONDS = 300;

export type PushMode = 'plain' | 'compatible' | 'safe';

export interface OpenedPush {
  mode: PushMode;
  format: 'xml' | 'json';
  /** The message: the decrypted one in safe and compatible mode. */
  message: Record<string, unknown>;
  /** The query's `signature`, verified, when it carried one (plain and compatible mode, and safe mode as WeChat sends it). */
  signature?: string;
}

type Query = Record<string, unknown>;

/**
 * Authenticates what reaches the push route and opens it: the URL check (GET) and messages in
 * plain, compatible and safe mode, XML or JSON. Every signature comparison is constant time.
 */
@Injectable()
export class PushRequestVerifier {
  constructor(private readonly clock: PushClock) {}

  /** GET: the echostr to answer when `signature` is right. */
  verifyUrl(crypto: WechatPushCrypto, query: Query): string {
    const { signature, timestamp, nonce } = signed(query);
    const echostr = single(query, 'echostr');
    // A replayed URL check reveals and changes nothing (it echoes what the caller sent), so it is
    // not held to the freshness window; only its signature matters.
    if (!signature || !crypto.verify(signature, timestamp, nonce)) throw new PushSignatureMismatchError();
    if (echostr === undefined || echostr.length === 0 || echostr.length > 256 || /[^\x21-\x7e]/.test(echostr)) {
      throw new ValidationFailedError('echostr must be 1 to 256 printable characters');
    }
    return echostr;
  }

  /**
   * A push's query, checked before its body is read: timestamp and nonce as WeChat sends them, the
   * timestamp fresh, and `signature` right when present (plain and compatible mode). Without it
   * (safe mode) msg_signature, which covers the body's Encrypt, is checked by `open`.
   */
  checkQuery(crypto: WechatPushCrypto, query: Query): { bySignature: boolean; timestamp: string; nonce: string } {
    const { signature, timestamp, nonce } = signed(query);
    const nowSeconds = Math.floor(this.clock.nowMs() / 1000);
    if (Math.abs(nowSeconds - Number(timestamp)) > PUSH_MAX_AGE_SECONDS) {
      throw new PushSignatureMismatchError(`Push timestamp is more than ${PUSH_MAX_AGE_SECONDS} s away from now`);
    }
    if (signature) {
      if (!crypto.verify(signature, timestamp, nonce)) throw new PushSignatureMismatchError();
      return { bySignature: true, timestamp, nonce };
    }
    if (single(query, 'encrypt_type') !== 'aes' || !single(query, 'msg_signature')) throw new PushSignatureMismatchError('signature is missing');
    return { bySignature: false, timestamp, nonce };
  }

  /**
   * POST: checks signatures and freshness, decrypts when encrypted, returns the message. The body
   * is refused (400) only once the push is authentic: until then any problem with it is a 401.
   */
  open(crypto: WechatPushCrypto, query: Query, body: unknown): OpenedPush {
    const { bySignature, timestamp, nonce } = this.checkQuery(crypto, query);
    const signature = bySignature ? single(query, 'signature') : undefined;
    // Without `signature` the push is authenticated by the Encrypt in its body or not at all.
    const unreadable = (problem: AppError): AppError => (bySignature ? problem : new PushSignatureMismatchError('Push cannot be authenticated: no Encrypt can be read from its body'));
    if (body instanceof MalformedBody) throw unreadable(body.error);
    const format = isXmlBody(body) ? 'xml' : 'json';
    const fields = isXmlBody(body) ? body.fields : body;
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw unreadable(new ValidationFailedError('A push body must be an XML or JSON object'));
    const outer = fields as Record<string, unknown>;

    const encryptType = single(query, 'encrypt_type');
    if (encryptType === undefined || encryptType === '' || encryptType === 'raw') {
      // checkQuery refuses plain mode without `signature` already; this keeps it so if that changes.
      if (!bySignature) throw new PushSignatureMismatchError();
      return { mode: 'plain', format, message: outer, signature };
    }
    if (encryptType !== 'aes') throw new ValidationFailedError('encrypt_type must be aes or absent');

    const msgSignature = single(query, 'msg_signature');
    const encrypt = outer.Encrypt ?? outer[' Encrypt'];
    if (!msgSignature) throw new PushSignatureMismatchError('msg_signature is missing');
    if (typeof encrypt !== 'string' || encrypt.length === 0) throw unreadable(new ValidationFailedError('An encrypted push must carry Encrypt'));
    if (!crypto.verify(msgSignature, timestamp, nonce, encrypt)) throw new PushSignatureMismatchError();

    const text = crypto.decrypt(encrypt);
    const message = parseInner(text);
    const mode: PushMode = Object.keys(outer).some((k) => !['ToUserName', 'Encrypt'].includes(k.trim())) ? 'compatible' : 'safe';
    return { mode, format, message, signature };
  }
}

function single(query: Query, name: string): string | undefined {
  const v = query[name];
  return typeof v === 'string' ? v : undefined;
}

/** signature/timestamp/nonce, shaped as WeChat sends them; anything else is a signature failure. */
function signed(query: Query): { signature: string | undefined; timestamp: string; nonce: string } {
  const timestamp = single(query, 'timestamp');
  const nonce = single(query, 'nonce');
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw new PushSignatureMismatchError('timestamp is missing or not a number');
  if (!nonce || nonce.length > 64) throw new PushSignatureMismatchError('nonce is missing or too long');
  const signature = single(query, 'signature');
  return { signature: signature || undefined, timestamp, nonce };
}

/** The decrypted message is XML or JSON, whichever format the console chose. */
function parseInner(text: string): Record<string, unknown> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) {
    try {
      return parsePushXml(trimmed);
    } catch (err) {
      throw new PushDecryptFailedError(err instanceof PushXmlError ? `decrypted XML refused: ${err.message}` : 'decrypted XML refused');
    }
  }
  let parsed: unknown;
  try {
    parsed = sjson.parse(trimmed, null, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw new PushDecryptFailedError('decrypted message is neither XML nor JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new PushDecryptFailedError('decrypted message is not an object');
  return parsed as Record<string, unknown>;
}
