import { ApiProperty } from '@nestjs/swagger';

/** The user as clients see it (CONTRACT §3 `User`): no token version, no deletion marker. */
export class UserDto {
  @ApiProperty({ example: 1 })
  id: number;

  @ApiProperty({ description: 'The openid of this user in this mini program', example: 'oLx3a5Q0nW8sZb1y2VfK9pQm7tRe' })
  openId: string;

  @ApiProperty({ type: String, nullable: true, description: 'UnionID across the Open Platform account, when WeChat gives one', example: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' })
  unionId: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Mini Tester' })
  nickname: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'https://thirdwx.qlogo.cn/mmopen/vi_32/avatar/132' })
  avatarUrl: string | null;

  @ApiProperty({ type: Number, nullable: true, enum: [0, 1, 2], description: '0 unknown, 1 male, 2 female', example: 1 })
  gender: 0 | 1 | 2 | null;

  @ApiProperty({ type: String, nullable: true, example: 'China' })
  country: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Guangdong' })
  province: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Shenzhen' })
  city: string | null;

  @ApiProperty({ type: Boolean, description: 'A newer avatar awaits the verdict of WeChat\'s image check; `avatarUrl` is the last one that passed', example: false })
  avatarPending: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'Phone number saved by POST /wechat/phone (only ever in the owner\'s own answers; encrypted at rest)', example: '13800138000' })
  mobile: string | null;

  @ApiProperty({ type: Boolean, description: 'A phone number is on file: do not show the getPhoneNumber button again (WeChat bills each use)', example: true })
  hasMobile: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When WeChat last gave the phone number', example: '2026-11-24T08:03:00.000Z' })
  mobileVerifiedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-24T08:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-24T08:05:00.000Z' })
  updatedAt: string;

  /** From a `wechat_user` row (snake_case columns, as the driver returns them). */
  static fromRow(row: Record<string, any>): UserDto {
    return {
      id: row.id,
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
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }
}
