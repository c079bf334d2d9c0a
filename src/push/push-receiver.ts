import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { InjectWechatSettings } from '../config/config.module';
import type { WechatSettings } from '../config/configuration';
import { PushRequestVerifier } from './push-request-verifier';
import { WechatPushCrypto } from './wechat-push-crypto';

/**
 * The push route's gate: 404 (as for an unknown route) when no push Token is configured, otherwise
 * verification with this app's Token, EncodingAESKey and appid.
 */
@Injectable()
export class PushReceiver {
  private readonly crypto: WechatPushCrypto | undefined;

  constructor(
    private readonly verifier: PushRequestVerifier,
    @InjectWechatSettings() settings: WechatSettings,
  ) {
    this.crypto = settings.pushToken ? new WechatPushCrypto(settings.pushToken, settings.pushAesKey, settings.appId) : undefined;
  }

  verifyUrl(query: Record<string, unknown>): string {
    return this.verifier.verifyUrl(this.configured(), query);
  }

  open(query: Record<string, unknown>, body: unknown): Record<string, unknown> {
    return this.verifier.open(this.configured(), query, body).message;
  }

  private configured(): WechatPushCrypto {
    if (!this.crypto) throw new AppError('NOT_FOUND', 'Route not found');
    return this.crypto;
  }
}
