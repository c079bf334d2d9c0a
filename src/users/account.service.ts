import { Injectable } from '@nestjs/common';
import { TokenVersionStore } from '../auth/token-version.store';
import { SessionKeyStore } from '../wechat/session-key.store';
import { UsersService } from './users.service';

/**
 * Account deletion, the one place for its rule: profile, mobile and unionId cleared, deleted_at
 * set and the token version bumped (one statement), then every cached token version and profile
 * of the user refused/dropped and the stored session_key removed. Used by `DELETE /users/me` and
 * by WeChat's `user_authorization_cancellation` push.
 */
@Injectable()
export class AccountService {
  constructor(
    private readonly users: UsersService,
    private readonly versions: TokenVersionStore,
    private readonly sessionKeys: SessionKeyStore,
  ) {}

  /** True when an active account was deleted; false when it was already gone. */
  async deleteAccount(userId: number): Promise<boolean> {
    const deleted = await this.users.softDelete(userId);
    await this.versions.forget(userId);
    if (deleted) await this.sessionKeys.drop(deleted.openId);
    return deleted !== undefined;
  }
}
