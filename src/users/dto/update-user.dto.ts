import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUrl } from 'class-validator';
import { IsStorableText } from '../../common/validation/is-storable-text';

/** `PATCH /users/me`: any subset of the profile. Lengths are in characters (code points). */
export class UpdateUserDto {
  @ApiPropertyOptional({ maxLength: 64, example: 'New Nickname' })
  @IsOptional()
  @IsStorableText(64)
  nickname?: string;

  @ApiPropertyOptional({ maxLength: 500, description: 'An https URL on a named host: no user name or password, no IP address', example: 'https://example.com/avatar.png' })
  @IsOptional()
  @IsStorableText(500)
  // Shown to other users and fetched by WeChat's image check: credentials would leak to both, and an
  // IP address (loopback, link-local, private) names no public image host (`localhost` has no TLD either).
  @IsUrl(
    { protocols: ['https'], require_protocol: true, disallow_auth: true, host_blacklist: [/^[\d.]+$/, /:/] },
    { message: 'avatarUrl must be an https URL on a named host (no user name or password, no IP address)' },
  )
  avatarUrl?: string;

  @ApiPropertyOptional({ enum: [0, 1, 2], description: '0 unknown, 1 male, 2 female', example: 2 })
  @IsOptional()
  @IsIn([0, 1, 2], { message: 'gender must be 0, 1 or 2' })
  gender?: 0 | 1 | 2;

  @ApiPropertyOptional({ maxLength: 100, example: 'China' })
  @IsOptional()
  @IsStorableText(100)
  country?: string;

  @ApiPropertyOptional({ maxLength: 100, example: 'Zhejiang' })
  @IsOptional()
  @IsStorableText(100)
  province?: string;

  @ApiPropertyOptional({ maxLength: 100, example: 'Hangzhou' })
  @IsOptional()
  @IsStorableText(100)
  city?: string;
}
