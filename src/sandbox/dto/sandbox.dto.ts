import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

/**
 * An optional appid, openid or unionid: 1 to 64 characters, as the columns that keep them. Checked
 * in the order listed, and only the first failure is reported (stopAtFirstError).
 */
function OptionalWechatId(docs: { description: string; example: string }): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional(docs), IsOptional(), Length(1, 64), IsString());
}

/** An optional profile field of at most `max` characters (checked in the order listed, as above). */
function OptionalProfileText(max: number, docs: { description: string; example: string }): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ maxLength: max, ...docs }), IsOptional(), MaxLength(max), IsString());
}

@ApiSchema({ description: 'Who the simulated user is; every field is optional (an empty body makes a new user)' })
export class SandboxLoginRequest {
  @OptionalWechatId({
    description: 'The simulated mini program the code is of (default: the first; see WECHAT_SANDBOX_APPS). One person (one unionId) has its own openid in each',
    example: 'wx-sandbox-appid',
  })
  appId?: string;

  @OptionalWechatId({ description: "Log in as this openid again; omit for the unionId's openid in this app, or a brand-new user", example: 'oSandbox0000000000000000001' })
  openId?: string;

  @OptionalWechatId({ description: 'UnionID to put in the encrypted data', example: 'uSandbox0000000000000000001' })
  unionId?: string;

  @OptionalProfileText(64, { description: 'The nickname in `rawData` and `encryptedData`', example: 'Sandbox Tester' })
  nickName?: string;

  @OptionalProfileText(500, { description: 'The avatar URL in `rawData` and `encryptedData`', example: 'https://example.com/avatar.png' })
  avatarUrl?: string;

  @ApiPropertyOptional({ enum: [0, 1, 2], description: 'The gender in the profile data: 0 unknown, 1 male, 2 female', example: 1 })
  @IsOptional()
  @IsIn([0, 1, 2])
  gender?: 0 | 1 | 2;

  @OptionalProfileText(100, { description: 'The country in the profile data', example: 'China' })
  country?: string;

  @OptionalProfileText(100, { description: 'The province in the profile data', example: 'Guangdong' })
  province?: string;

  @OptionalProfileText(100, { description: 'The city in the profile data', example: 'Shenzhen' })
  city?: string;
}

/** Exactly the body `POST /wechat/login` takes: paste it there. */
@ApiSchema({ description: 'What the mini program would get from wx.login and wx.getUserInfo: exactly the body POST /wechat/login takes' })
export class SandboxLoginResponse {
  @ApiProperty({ description: 'A one-time login code, as from `wx.login()`', example: 'sbx_3f1c2a9e8b7d4c6a' }) code: string;
  @ApiProperty({
    description: 'The profile as a JSON string, as `wx.getUserInfo()` gives it',
    example: '{"nickName":"Sandbox Tester","gender":1,"language":"zh_CN","city":"Shenzhen","province":"Guangdong","country":"China","avatarUrl":""}',
  })
  rawData: string;
  @ApiProperty({ description: '`sha1(rawData + session_key)` in hex', example: '1d0c3e7c1b5a4d2f8e9a0b1c2d3e4f5a6b7c8d9e' }) signature: string;
  @ApiProperty({ description: 'The profile with unionId, encrypted with the session_key (base64)', example: 'q1w2e3r4t5y6u7i8o9p0...' }) encryptedData: string;
  @ApiProperty({ description: 'The AES iv of `encryptedData` (base64 of 16 bytes)', example: 'r7BXXKkLb8qrSNn05n0qiA==' }) iv: string;
  @ApiPropertyOptional({ description: 'The mini program (only when several are simulated, as POST /wechat/login then needs it)', example: 'wx-sandbox-appid-2' })
  appId?: string;
}

@ApiSchema({ description: 'Whose phone button is tapped, and the number it reveals; every field is optional' })
export class SandboxPhoneCodeRequest {
  @OptionalWechatId({ description: 'The simulated mini program whose button gives the code (default: the first)', example: 'wx-sandbox-appid' })
  appId?: string;

  @ApiPropertyOptional({ description: 'The number the code will reveal; default 13800138000', example: '13800138000' })
  @IsOptional()
  @IsString()
  @Matches(/^\+?[0-9][0-9 -]{4,20}$/, { message: 'phoneNumber must be a phone number' })
  phoneNumber?: string;

  @ApiPropertyOptional({ description: 'The user who tapped the button: the code then works for that openid only, as on WeChat', example: 'oSandboxUser00000000000000001' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'openId must be 1-64 letters, digits, _ or -' })
  openId?: string;
}

@ApiSchema({ description: 'What the getPhoneNumber button would give the mini program' })
export class SandboxPhoneCodeResponse {
  @ApiProperty({ description: 'For `POST /wechat/phone` `{ code }`', example: 'sbx_phone_7a8b9c' }) code: string;
}

export const SANDBOX_PUSH_EVENTS = ['user_authorization_revoke', 'user_authorization_cancellation', 'user_info_modified'] as const;

@ApiSchema({ description: 'The privacy event to push, and whom it is about' })
export class SandboxPushRequest {
  @OptionalWechatId({ description: 'The simulated mini program that pushes (to its own push route; default: the first)', example: 'wx-sandbox-appid' })
  appId?: string;

  @ApiProperty({ enum: SANDBOX_PUSH_EVENTS, description: 'The WeChat event to push', example: 'user_authorization_revoke' })
  @IsIn(SANDBOX_PUSH_EVENTS)
  event: (typeof SANDBOX_PUSH_EVENTS)[number];

  @ApiProperty({ description: 'The user the event is about', example: 'oSandbox0000000000000000001' })
  @IsString()
  @Length(1, 64)
  openId: string;

  @ApiPropertyOptional({ description: 'user_authorization_revoke only: withdrawn authorisations, comma-separated (6 nickname and avatar, 8 phone number, 19, 20, …)', example: '6,8' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,4}(,\d{1,4}){0,19}$/, { message: 'revokeInfo must be WeChat codes separated by commas, e.g. 6,8' })
  revokeInfo?: string;
}

@ApiSchema({ description: 'The pushed event and what the push route answered it' })
export class SandboxPushResponse {
  @ApiProperty({ description: 'The event that was pushed', example: 'user_authorization_revoke' }) event: string;
  @ApiProperty({ description: 'The user it was about', example: 'oSandbox0000000000000000001' }) openId: string;
  @ApiProperty({ description: 'How the sandbox sent it (as WeChat in safe mode)', example: 'safe' }) mode: string;
  @ApiProperty({ description: 'The body format it was sent in', example: 'xml' }) format: string;
  @ApiProperty({ description: "HTTP status of the service's push route", example: 200 }) status: number;
  @ApiProperty({ description: 'What the push route answered', example: 'success' }) answer: string;
}
