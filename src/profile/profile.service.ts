import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { AvatarImageProcessor } from '../avatars/avatar-image.processor';
import { AvatarStore } from '../avatars/avatar.store';
import { ContentCheckStore } from '../content-security/content-check.store';
import { ContentSecurityClient } from '../content-security/content-security.client';
import { ContentRiskyError } from '../content-security/content-security.errors';
import { MobileVault } from '../data-protection/mobile-vault';
import type { UpdateUserDto } from '../users/dto/update-user.dto';
import { openIdIn, UserDto } from '../users/dto/user.dto';
import { UsersService } from '../users/users.service';
import { AvatarReviewService } from './avatar-review.service';

/**
 * Today's profile flow: the nickname typed in `<input type="nickname">` and the avatar chosen with
 * `<button open-type="chooseAvatar">`, both judged by WeChat's content checks before they show.
 * Every check runs before anything is written, so a refused or failed check stores nothing.
 */
@Injectable()
export class ProfileService {
  constructor(
    private readonly users: UsersService,
    private readonly security: ContentSecurityClient,
    private readonly checks: ContentCheckStore,
    private readonly reviews: AvatarReviewService,
    private readonly processor: AvatarImageProcessor,
    private readonly avatars: AvatarStore,
    private readonly vault: MobileVault,
  ) {}

  /**
   * `PATCH /users/me`. A new nickname passes `msg_sec_check` first (risky → 400, nothing stored); a
   * new avatarUrl is sent to the image check and stays pending until its verdict; the other fields
   * are stored as given. The checks run as the caller's mini program (its token's), for the user's
   * openid there.
   */
  async update(caller: Pick<AuthenticatedUser, 'id' | 'appId'>, update: UpdateUserDto): Promise<UserDto> {
    const userId = caller.id;
    const current = await this.users.getActive(userId);
    const { avatarUrl, ...rest } = update;

    // An empty nickname says nothing WeChat could judge (and msg_sec_check refuses empty content).
    if (typeof rest.nickname === 'string' && rest.nickname.trim() !== '' && rest.nickname !== current.nickname) {
      const openId = openIdIn(current, caller.appId);
      const verdict = await this.security.checkText(caller.appId, rest.nickname, openId);
      await this.checks.record({ userId, kind: 'nickname', traceId: verdict.traceId, verdict: verdict.suggest, label: verdict.label, appId: caller.appId, openId });
      if (verdict.suggest === 'risky') throw new ContentRiskyError('nickname', verdict.label);
    }
    const newAvatar = typeof avatarUrl === 'string' && avatarUrl !== current.avatarUrl ? avatarUrl : undefined;
    // Started before anything is written (a check that cannot start stores nothing), marked pending
    // last (its verdict, which may come back at once, must be the last word on the cached user).
    const check = newAvatar ? await this.reviews.start(current, caller.appId, newAvatar) : undefined;
    if (avatarUrl === null) await this.reviews.clearPending(userId);

    const profile = avatarUrl === null ? { ...rest, avatarUrl: null } : rest;
    const updated = await this.users.updateProfile(userId, profile);
    return UserDto.forApp(this.vault.reveal(check ? await this.reviews.markPending(updated, check) : updated), caller.appId);
  }

  /** `PUT|POST /users/me/avatar`: re-encode, store, send to the image check; 202 with `avatarPending`. */
  async uploadAvatar(caller: Pick<AuthenticatedUser, 'id' | 'appId'>, upload: Buffer): Promise<UserDto> {
    const userId = caller.id;
    const current = await this.users.getActive(userId);
    const image = await this.processor.process(upload);
    const avatarId = await this.avatars.insert(userId, image);
    return UserDto.forApp(this.vault.reveal(await this.reviews.submit(current, caller.appId, this.reviews.urlOf(avatarId), avatarId)), caller.appId);
  }
}
