import { Injectable } from '@nestjs/common';
import { AccessTokenService } from './access-token.service';
import { WechatApiClient, type WechatRequest } from './wechat-api.client';
import { WechatAccessTokenRejectedError } from './wechat.errors';

/**
 * WeChat server APIs that take `access_token`: attaches the token of the given mini program,
 * decodes errcodes into typed errors (via WechatApiClient), and on a rejected token refreshes it
 * once and retries once. A new API is one method on top of `call`, e.g.
 *   `this.serverApi.call(caller.appId, { method: 'POST', path: '/wxa/generatescheme', body: { jump_wxa: { path }, expire_type: 1, expire_interval: 30 } })`
 * (JSON answers only: an API that answers an image, such as getwxacodeunlimit, is not JSON to WechatApiClient).
 */
@Injectable()
export class WechatServerApi {
  constructor(
    private readonly api: WechatApiClient,
    private readonly tokens: AccessTokenService,
  ) {}

  /** `appId`: the mini program whose access token the call carries (a caller's: `AuthenticatedUser.appId`). */
  async call<T extends object>(appId: string, request: WechatRequest): Promise<T> {
    const token = await this.tokens.token(appId);
    try {
      return await this.api.call<T>(withToken(request, token));
    } catch (err) {
      if (!(err instanceof WechatAccessTokenRejectedError)) throw err;
      const fresh = await this.tokens.replace(appId, token);
      return this.api.call<T>(withToken(request, fresh));
    }
  }
}

function withToken(request: WechatRequest, token: string): WechatRequest {
  return { ...request, query: { ...request.query, access_token: token } };
}
