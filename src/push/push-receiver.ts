import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppError, ServiceUnavailableError } from '../common/errors/app-error';
import { WechatApps } from '../wechat-apps/wechat-apps';
import { PushRequestVerifier } from './push-request-verifier';
import { PushSignatures } from './push-signature.repository';
import { PushSignatureMismatchError } from './push.errors';
import { WechatPushCrypto } from './wechat-push-crypto';

/**
 * The push routes' gate: each mini program's pushes are verified with its own Token, EncodingAESKey
 * and appid. 404 (as for an unknown route) for an app that is not configured or has no push Token,
 * and for the one-app route (`appId` undefined) when several apps are configured.
 */
@Injectable()
export class PushReceiver {
  private readonly cryptos = new Map<string, WechatPushCrypto>();
  private readonly single: string | undefined;

  constructor(
    private readonly verifier: PushRequestVerifier,
    private readonly signatures: PushSignatures,
    apps: WechatApps,
  ) {
    for (const app of apps.all) if (app.pushToken) this.cryptos.set(app.appId, new WechatPushCrypto(app.pushToken, app.pushAesKey, app.appId));
    this.single = apps.single ? apps.primary.appId : undefined;
  }

  verifyUrl(appId: string | undefined, query: Record<string, unknown>): string {
    return this.verifier.verifyUrl(this.configured(appId), query);
  }

  /** The query's part of a push's authentication (see PushRequestVerifier.checkQuery); 404 for an app without push. */
  checkQuery(appId: string | undefined, query: Record<string, unknown>): { bySignature: boolean } {
    return this.verifier.checkQuery(this.configured(appId), query);
  }

  /**
   * The verified (and decrypted) message, with the app whose route received it. `signature` covers
   * the query, not the body, so a query carrying it is good for one message: the same query with
   * another message (a query captured from a log, perhaps stripped of `encrypt_type` to pass as
   * plain mode) is refused; with the same message it is WeChat retrying.
   */
  async open(appId: string | undefined, query: Record<string, unknown>, body: unknown): Promise<{ appId: string; message: Record<string, unknown> }> {
    const crypto = this.configured(appId);
    const { message, signature } = this.verifier.open(crypto, query, body);
    if (signature) {
      const messageSha256 = createHash('sha256').update(JSON.stringify(message)).digest('hex');
      const bound = await this.signatures.bind(crypto.appId, signature, messageSha256).catch((err: unknown) => {
        throw new ServiceUnavailableError('Push handling', err);
      });
      if (!bound) throw new PushSignatureMismatchError('This signature came before with another message: a signature is good for one message');
    }
    return { appId: crypto.appId, message };
  }

  private configured(appId: string | undefined): WechatPushCrypto {
    const crypto = this.cryptos.get(appId ?? this.single ?? '');
    if (!crypto) throw new AppError('NOT_FOUND', 'Route not found');
    return crypto;
  }
}
