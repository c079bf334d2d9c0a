import { Injectable, Logger } from '@nestjs/common';
import { VersionedCache } from '../cache/versioned-cache';
import { UnauthorizedError } from '../common/errors/app-error';
import type { SealedMobile } from '../data-protection/mobile-number';
import { Sql } from '../database/sql';
import type { SealedSessionKey } from '../session-keys/session-key.repository';
import { SessionKeyStore } from '../session-keys/session-key.store';
import type { UserDto } from './dto/user.dto';
import { IdentityLinker } from './identity-linker';
import { TokenRevocations } from './token-revocations';
import { WechatIdentityRepository } from './wechat-identity.repository';
import { type ProfileFields, toRecord, type UserRecord, type WechatUserRow, WechatUserRepository } from './wechat-user.repository';

/** Profile fields as WeChat or the client gives them; `undefined` means "not given, keep what is stored". */
export type WechatProfile = ProfileFields;
export type ProfileUpdate = ProfileFields;

const RECORD_TTL_MS = 10 * 60_000;
const RETRY_EVERY_MS = 500;
const RETRY_FOR_MS = 60_000;

/** What a token is checked against. */
export interface TokenState {
  tokenVersion: number;
  deleted: boolean;
  /** The app of the user's first identity: a token issued before several apps existed names no app and is of this one. */
  firstAppId: string | undefined;
  /** The user as read for this check (the same cached record): a handler of the request needs no second read. */
  user: UserDto;
}

/**
 * Users: reads go through a cache shared by every instance (with Redis) that only moves forward (see
 * VersionedCache), writes go to the database first and then into the cache. A write that reached
 * the database is never reported as failed because the cache could not take it: the cache write is
 * retried in the background, and revocations are also followed from the database (TokenRevocations).
 */
@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly repository: WechatUserRepository,
    private readonly cache: VersionedCache,
    private readonly revocations: TokenRevocations,
    private readonly sessionKeys: SessionKeyStore,
    private readonly linker: IdentityLinker,
    private readonly identities: WechatIdentityRepository,
    private readonly sql: Sql,
  ) {}

  /**
   * Creates or updates the user of a mini program's openid on login (linking a new app's identity to
   * the user of its unionid, see IdentityLinker); a deleted user is reactivated. A sealed session key
   * is saved by the same statement.
   */
  async upsertOnLogin(appId: string, openId: string, unionId: string | undefined, profile: WechatProfile, sessionKey?: SealedSessionKey): Promise<{ user: UserDto; tokenVersion: number }> {
    const record = await this.linker.signIn(appId, openId, unionId, profile, sessionKey);
    await this.rememberWritten(record);
    return { user: record.user, tokenVersion: record.tokenVersion };
  }

  /** The active (not deleted) user; undefined when gone. */
  async findActive(id: number): Promise<UserDto | undefined> {
    const record = await this.record(id);
    return record && !record.deleted ? record.user : undefined;
  }

  /** The active user, or UNAUTHORIZED: the caller's account is gone. */
  async getActive(id: number): Promise<UserDto> {
    const user = await this.findActive(id);
    if (!user) throw new UnauthorizedError('User no longer exists');
    return user;
  }

  /** What the user's tokens are checked against; undefined when there is no such user. */
  async tokenState(id: number): Promise<TokenState | undefined> {
    const record = await this.record(id);
    if (!record) return undefined;
    // A revocation known from the database outranks a cache that may have lost it.
    const floor = this.revocations.minimumVersion(id);
    return {
      tokenVersion: floor !== undefined && floor > record.tokenVersion ? floor : record.tokenVersion,
      deleted: record.deleted,
      firstAppId: record.user.identities[0]?.appId,
      user: record.user,
    };
  }

  async updateProfile(id: number, update: ProfileUpdate): Promise<UserDto> {
    if (!Object.values(update).some((v) => v !== undefined)) return this.getActive(id);
    return this.written(await this.repository.updateProfile(id, update));
  }

  /** Stores a phone number sealed by MobileVault: the envelope, its lookup hash, and when WeChat gave it. */
  async setMobile(id: number, mobile: SealedMobile): Promise<UserDto> {
    return this.written(await this.repository.setMobile(id, mobile));
  }

  /**
   * Caches a `wechat_user` row written elsewhere (avatar verdicts) after its transaction committed;
   * like every write here, only if newer than the cached one.
   */
  async rememberRow(row: WechatUserRow): Promise<UserDto> {
    const record = toRecord(row);
    await this.rememberWritten(record);
    return record.user;
  }

  /** Logout everywhere: every token issued to this user until now stops working. */
  async revokeTokens(id: number): Promise<void> {
    const record = await this.repository.revokeTokens(id);
    if (!record) throw new UnauthorizedError('User no longer exists');
    this.revocations.record(id, record.tokenVersion);
    await this.rememberWritten(record);
  }

  /**
   * Deletes the account: profile, mobile and unionId cleared, every token revoked, the stored
   * session_key dropped. The row stays, so a later login reactivates the same account, empty.
   * Returns false when there was no active user.
   */
  async deleteAccount(id: number): Promise<boolean> {
    const record = await this.sql.transaction(async (tx) => {
      const deleted = await this.repository.softDelete(id, tx);
      if (deleted) await this.identities.clearUnionIds(tx, id);
      return deleted;
    });
    if (!record) return false;
    this.revocations.record(id, record.tokenVersion);
    await this.rememberWritten(record);
    // The session key of every app the user logged in to.
    const identities = record.user.identities.length ? record.user.identities : [{ appId: undefined, openId: record.user.openId }];
    for (const identity of identities) {
      await this.sessionKeys.drop(identity.appId, identity.openId).catch((err) => this.logger.warn(`session key of user ${id} not dropped yet: ${(err as Error).message}`));
    }
    return true;
  }

  /** The user of a mini program's openid, deleted or not (WeChat's pushes name users by openid). */
  async findIdByIdentity(appId: string, openId: string): Promise<{ id: number; deleted: boolean } | undefined> {
    return this.identities.findUser(appId, openId);
  }

  /**
   * Erases data WeChat told us to delete (privacy push events): nickname and avatar, and/or the
   * phone number. Returns false when there is no active user.
   */
  async erase(id: number, what: { profile?: boolean; mobile?: boolean }): Promise<boolean> {
    if (!what.profile && !what.mobile) return (await this.findActive(id)) !== undefined;
    const record = await this.repository.erase(id, what);
    if (!record) return false;
    await this.rememberWritten(record);
    return true;
  }

  private async record(id: number): Promise<UserRecord | undefined> {
    const cached = await this.cache.get<UserRecord>(cacheKey(id));
    if (cached) return cached.value;
    const record = await this.repository.findById(id);
    if (record) await this.cache.put(cacheKey(id), record.revision, record, RECORD_TTL_MS);
    return record;
  }

  private async written(record: UserRecord | undefined): Promise<UserDto> {
    if (!record) throw new UnauthorizedError('User no longer exists');
    await this.rememberWritten(record);
    return record.user;
  }

  /**
   * Puts a record the database has just written into the cache. The write already happened, so a
   * cache failure does not fail the request: the put is retried in the background until it lands
   * (an older record can never replace it, see VersionedCache).
   */
  private async rememberWritten(record: UserRecord): Promise<void> {
    const key = cacheKey(record.user.id);
    const started = Date.now();
    const attempt = () => this.cache.put(key, record.revision, record, RECORD_TTL_MS);
    const retry = (err: unknown): void => {
      if (Date.now() - started > RETRY_FOR_MS) {
        this.logger.error(`cache write for user ${record.user.id} abandoned: ${(err as Error).message}`);
        return;
      }
      setTimeout(() => void attempt().catch(retry), RETRY_EVERY_MS).unref();
    };
    await attempt().catch(retry);
  }
}

/**
 * `u2:`: records carry the user's identities since several mini programs; records of the one-app
 * version (under `u:`) are never read, so no cached record lacks them (revocations are followed from
 * the database whatever the cache holds, see TokenRevocations).
 */
const cacheKey = (id: number) => `u2:${id}`;
