import { Injectable } from '@nestjs/common';
import { Sql } from '../database/sql';
import type { SealedSessionKey } from '../session-keys/session-key.repository';
import { WechatIdentityRepository } from './wechat-identity.repository';
import { type ProfileFields, type UserRecord, WechatUserRepository } from './wechat-user.repository';

/**
 * Finds or creates the account of a mini program's openid at login. One person has one openid per
 * mini program and one unionid across the apps bound to one Open Platform account:
 *
 * - a known identity (app, openid): its user, in one statement (the hot path);
 * - a new identity whose unionid an identity of some user already carries: a new identity of that
 *   user (the same person, in another app);
 * - a user of the one-app schema not linked yet (written during a rolling upgrade): adopted;
 * - otherwise a new user, whose seed openid (`wechat_user.open_id`) is this first identity's;
 * - unless that openid already is another user's seed: WeChat gives different apps different
 *   openids, so it is that user's (seen under another app only when a one-app database was adopted
 *   into the wrong app, see README › Upgrading): the identity joins that user.
 *
 * The login's session key, when session keys live in the database, is written by the same statement
 * as the login (see WechatUserRepository.login), inside the transaction for a first login.
 *
 * First logins run in one transaction that holds advisory locks on the (app, openid) and on the
 * unionid until it ends: simultaneous first logins of one person (the same app twice, or two apps
 * at once) run one after the other, and the later one finds what the earlier created, so they
 * still make one user.
 */
@Injectable()
export class IdentityLinker {
  constructor(
    private readonly sql: Sql,
    private readonly users: WechatUserRepository,
    private readonly identities: WechatIdentityRepository,
  ) {}

  async signIn(appId: string, openId: string, unionId: string | undefined, profile: ProfileFields, sessionKey?: SealedSessionKey): Promise<UserRecord> {
    const known = await this.users.login(this.sql, appId, openId, unionId, profile, sessionKey);
    if (known) return known;
    return this.sql.transaction(async (tx) => {
      await this.identities.lockPerson(tx, appId, openId, unionId);
      // Another first login of this identity may have committed while this one waited for the lock.
      const meanwhile = await this.users.login(tx, appId, openId, unionId, profile, sessionKey);
      if (meanwhile) return meanwhile;
      const userId =
        (unionId !== undefined ? await this.identities.userOfUnionId(tx, unionId) : undefined) ??
        (await this.users.findUnlinked(tx, openId)) ??
        (await this.users.insertSeed(tx, openId)) ??
        (await this.users.findBySeed(tx, openId))!;
      await this.identities.insert(tx, { userId, appId, openId, unionId });
      const record = await this.users.login(tx, appId, openId, unionId, profile, sessionKey);
      if (!record) throw new Error('the identity just inserted was not found');
      return record;
    });
  }
}
