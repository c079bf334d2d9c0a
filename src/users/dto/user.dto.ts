import { ApiProperty, ApiSchema } from '@nestjs/swagger';

/** The user's openid in one mini program. */
@ApiSchema({ description: "The user's openid in one mini program" })
export class IdentityDto {
  @ApiProperty({ description: 'The mini program (AppID)', example: 'wx8a1b2c3d4e5f6a7b' })
  appId: string;

  @ApiProperty({ description: 'The openid of this user in that mini program', example: 'oLx3a5Q0nW8sZb1y2VfK9pQm7tRe' })
  openId: string;
}

/** The user as clients see it (README, API: `User`): no token version, no deletion marker. */
@ApiSchema({ description: 'The user as its owner sees it (mobile number included): answers of login, GET and PATCH /users/me and the avatar upload' })
export class UserDto {
  @ApiProperty({ type: 'integer', description: "The user's id, stable for the account's whole life (the token's `sub`)", example: 1 })
  id: number;

  @ApiProperty({ description: "The openid of this user in the mini program of the caller's token (the one it logged in with)", example: 'oLx3a5Q0nW8sZb1y2VfK9pQm7tRe' })
  openId: string;

  @ApiProperty({ type: String, nullable: true, description: 'UnionID across the Open Platform account, when WeChat gives one', example: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' })
  unionId: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Nickname; null until the user gives one', example: 'Mini Tester' })
  nickname: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "The last avatar that passed WeChat's image check (an uploaded one is served by GET /avatars/{id})",
    example: 'https://thirdwx.qlogo.cn/mmopen/vi_32/avatar/132',
  })
  avatarUrl: string | null;

  @ApiProperty({ type: Number, nullable: true, enum: [0, 1, 2], description: '0 unknown, 1 male, 2 female', example: 1 })
  gender: 0 | 1 | 2 | null;

  @ApiProperty({ type: String, nullable: true, description: 'Country, as the user or WeChat gave it', example: 'China' })
  country: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Province or region', example: 'Guangdong' })
  province: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'City', example: 'Shenzhen' })
  city: string | null;

  @ApiProperty({ type: Boolean, description: "A newer avatar awaits the verdict of WeChat's image check; `avatarUrl` is the last one that passed", example: false })
  avatarPending: boolean;

  @ApiProperty({ type: String, nullable: true, description: "Phone number saved by POST /wechat/phone (only ever in the owner's own answers; encrypted at rest)", example: '13800138000' })
  mobile: string | null;

  @ApiProperty({ type: Boolean, description: 'A phone number is on file: do not show the getPhoneNumber button again (WeChat bills each use)', example: true })
  hasMobile: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When WeChat last gave the phone number', example: '2026-11-24T08:03:00.000Z' })
  mobileVerifiedAt: string | null;

  @ApiProperty({
    type: [IdentityDto],
    description: 'The openid of this user in each mini program it logged in to, oldest first (linked by unionid); always present',
    example: [{ appId: 'wx8a1b2c3d4e5f6a7b', openId: 'oLx3a5Q0nW8sZb1y2VfK9pQm7tRe' }],
  })
  identities: IdentityDto[];

  @ApiProperty({ type: String, format: 'date-time', description: 'When the account was created (first login)', example: '2026-11-24T08:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'When the account last changed (a login with profile data, a profile update, …)', example: '2026-11-24T08:05:00.000Z' })
  updatedAt: string;

  /** From a `wechat_user` row (snake_case columns, as the driver returns them). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- driver rows are untyped; each column is read once here
  static fromRow(row: Record<string, any>): UserDto {
    return {
      id: Number(row.id),
      openId: row.open_id,
      unionId: row.union_id,
      nickname: row.nickname,
      avatarUrl: row.avatar_url,
      gender: row.gender,
      country: row.country,
      province: row.province,
      city: row.city,
      avatarPending: row.avatar_pending_url != null,
      // Still the stored envelope here (the profile cache keeps it so); MobileVault.reveal opens it for the owner.
      mobile: row.mobile,
      hasMobile: row.mobile != null,
      mobileVerifiedAt: row.mobile_verified_at ? new Date(row.mobile_verified_at).toISOString() : null,
      identities: Array.isArray(row.identities) ? row.identities : [],
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  /** The user as the caller of `appId` sees it: `openId` is its openid in that mini program. */
  static forApp(user: UserDto, appId: string): UserDto {
    const openId = openIdIn(user, appId);
    return openId === user.openId ? user : { ...user, openId };
  }
}

/**
 * The user's openid in a mini program; the seed openid when it has no identity there (a user
 * written by a one-app instance during a rolling upgrade, whose only app is the first one).
 */
export function openIdIn(user: Pick<UserDto, 'openId' | 'identities'>, appId: string): string {
  return user.identities.find((i) => i.appId === appId)?.openId ?? user.openId;
}
