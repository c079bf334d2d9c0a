import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { UsersService } from '../users/users.service';
import { SessionKeyStore } from '../session-keys/session-key.store';
import { callerOpenId } from './caller-open-id';
import { WechatServerApi } from './wechat-server-api';
import { WechatBadResponseError } from './wechat.errors';

/** WeChat's answer to a checksession signature made with a key it no longer holds. */
const INVALID_SIGNATURE = 87009;

/**
 * The checksession signature: lowercase hex HMAC-SHA256 of `message`, keyed by the session_key
 * *text* exactly as WeChat sent it (not its base64-decoded bytes).
 */
export function checkSessionSignature(sessionKey: string, message = ''): string {
  return createHmac('sha256', Buffer.from(sessionKey, 'utf8')).update(message, 'utf8').digest('hex');
}

/** `GET /wechat/session`: does WeChat still hold the session_key of this user's last login in the token's mini program? */
@Injectable()
export class SessionCheckService {
  constructor(
    private readonly serverApi: WechatServerApi,
    private readonly sessionKeys: SessionKeyStore,
    private readonly users: UsersService,
  ) {}

  async isValid(caller: Pick<AuthenticatedUser, 'id' | 'appId'>): Promise<boolean> {
    const openId = await callerOpenId(this.users, caller);
    const sessionKey = await this.sessionKeys.get(caller.appId, openId);
    if (!sessionKey) return false;
    const body = await this.serverApi.call<{ errcode?: unknown }>(caller.appId, {
      method: 'GET',
      path: '/wxa/checksession',
      query: { openid: openId, signature: checkSessionSignature(sessionKey), sig_method: 'hmac_sha256' },
      accept: [INVALID_SIGNATURE],
    });
    // A valid session is `{ errcode: 0, errmsg: "ok" }`; the client lets a missing errcode pass (other
    // APIs answer success without one), but here it is the whole answer: without it nothing was said.
    if (typeof body.errcode !== 'number') throw new WechatBadResponseError('checksession answer lacks a numeric errcode');
    return body.errcode === 0;
  }
}
