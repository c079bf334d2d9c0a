import { applyDecorators, Body, Controller, Header, HttpCode, Patch, Post, Put, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { AvatarUploadsOffError } from '../avatars/avatar.errors';
import { readAvatarUpload } from '../avatars/avatar-upload';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { NO_STORE_HEADERS } from '../common/swagger/no-store-headers';
import { InjectAvatarSettings } from '../config/config.module';
import type { AvatarSettings } from '../config/profile-settings';
import { UpdateUserDto } from '../users/dto/update-user.dto';
import { UserDto } from '../users/dto/user.dto';
import { ProfileService } from './profile.service';

const UPLOAD_DESCRIPTION =
  'The avatar from `<button open-type="chooseAvatar">`, sent with `wx.uploadFile({ url, filePath, name: "file", header: { Authorization } })`: ' +
  '`multipart/form-data`, file field `file` (JPEG, PNG, WebP or GIF, at most AVATAR_MAX_BYTES, at most 4096×4096). ' +
  "It is re-encoded (JPEG, at most 640×640, EXIF/GPS and all other metadata removed), stored, and sent to WeChat's image check: " +
  'the answer is 202 with `avatarPending: true`, and `avatarUrl` changes when the verdict passes. ' +
  '`POST` does the same as `PUT`: wx.uploadFile can only send POST.';

/** What both upload routes answer and document (PUT, and POST because wx.uploadFile only POSTs). */
const AvatarUpload = (summary: string) =>
  applyDecorators(
    HttpCode(202),
    // The owner's full profile, mobile number included: no cache may keep it.
    Header('cache-control', 'no-store'),
    ApiOperation({ summary, description: UPLOAD_DESCRIPTION }),
    ApiConsumes('multipart/form-data'),
    ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary', description: 'JPEG, PNG, WebP or GIF' } } } }),
    ApiAcceptedResponse({ type: UserDto, description: 'Stored and sent to the image check: `avatarPending: true`', headers: NO_STORE_HEADERS }),
    ApiErrorResponses(
      'VALIDATION_FAILED',
      'INVALID_IMAGE',
      'UNAUTHORIZED',
      'NOT_FOUND',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'WECHAT_RATE_LIMITED',
      'WECHAT_UNAVAILABLE',
      'SERVICE_UNAVAILABLE',
    ),
  );

@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me')
export class ProfileController {
  constructor(
    private readonly profile: ProfileService,
    @InjectAvatarSettings() private readonly settings: AvatarSettings,
  ) {}

  @Patch()
  // As GET /users/me: the owner's full profile.
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'Update the profile',
    description:
      'Any subset of the fields; `null` clears a field. A new `nickname` (from `<input type="nickname">`) first passes WeChat\'s text check (`msg_sec_check`): risky → 400 CONTENT_RISKY and nothing is stored. ' +
      "A new `avatarUrl` goes to WeChat's image check: it is answered with `avatarPending: true` and becomes `avatarUrl` when the verdict passes.",
  })
  // No body at all is no change: the body is optional.
  @ApiBody({ type: UpdateUserDto, required: false })
  @ApiOkResponse({ type: UserDto, headers: NO_STORE_HEADERS })
  @ApiErrorResponses('VALIDATION_FAILED', 'CONTENT_RISKY', 'UNAUTHORIZED', 'WECHAT_RATE_LIMITED', 'WECHAT_UNAVAILABLE', 'SERVICE_UNAVAILABLE')
  update(@CurrentUser() caller: AuthenticatedUser, @Body() body: UpdateUserDto): Promise<UserDto> {
    return this.profile.update(caller, body);
  }

  @Put('avatar')
  @AvatarUpload('Upload the avatar (multipart/form-data, field `file`)')
  uploadAvatar(@CurrentUser() caller: AuthenticatedUser, @Req() request: FastifyRequest): Promise<UserDto> {
    return this.upload(caller, request);
  }

  @Post('avatar')
  @AvatarUpload('Upload the avatar, as wx.uploadFile sends it (POST)')
  uploadAvatarByPost(@CurrentUser() caller: AuthenticatedUser, @Req() request: FastifyRequest): Promise<UserDto> {
    return this.upload(caller, request);
  }

  private async upload(caller: AuthenticatedUser, request: FastifyRequest): Promise<UserDto> {
    if (this.settings.maxBytes === 0) throw new AvatarUploadsOffError();
    return this.profile.uploadAvatar(caller, await readAvatarUpload(request, this.settings.maxBytes));
  }
}
