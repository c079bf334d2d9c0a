import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUrl } from 'class-validator';
import { IsStorableText } from '../../common/validation/is-storable-text';

/** `PATCH /users/me`: any subset of the profile. Lengths are in characters (code points). */
@ApiSchema({ description: 'Any subset of the profile (or no body: no change). A field left out stays as it is; `null` clears it.' })
export class UpdateUserDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 64,
    description: 'The nickname, as `<input type="nickname">` gives it; passes WeChat\'s text check first (risky: 400 CONTENT_RISKY)',
    example: 'New Nickname',
  })
  @IsOptional()
  @IsStorableText(64)
  nickname?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 500,
    description: "An https URL on a named host (no user name or password, no IP address); goes to WeChat's image check and becomes `avatarUrl` when it passes",
    example: 'https://example.com/avatar.png',
  })
  @IsOptional()
  @IsStorableText(500)
  // Shown to other users and fetched by WeChat's image check: credentials would leak to both, and an
  // IP address (loopback, link-local, private) names no public image host (`localhost` has no TLD either).
  @IsUrl(
    { protocols: ['https'], require_protocol: true, disallow_auth: true, host_blacklist: [/^[\d.]+$/, /:/] },
    { message: 'avatarUrl must be an https URL on a named host (no user name or password, no IP address)' },
  )
  avatarUrl?: string | null;

  @ApiPropertyOptional({ type: Number, nullable: true, enum: [0, 1, 2], description: '0 unknown, 1 male, 2 female', example: 2 })
  @IsOptional()
  @IsIn([0, 1, 2], { message: 'gender must be 0, 1 or 2' })
  gender?: 0 | 1 | 2 | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, description: 'Country, as the user gives it', example: 'China' })
  @IsOptional()
  @IsStorableText(100)
  country?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, description: 'Province or region', example: 'Zhejiang' })
  @IsOptional()
  @IsStorableText(100)
  province?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, description: 'City', example: 'Hangzhou' })
  @IsOptional()
  @IsStorableText(100)
  city?: string | null;
}
