import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsString, Length, Matches, MaxLength, ValidateIf } from 'class-validator';
import { EncryptedDataField, EncryptedDataIvField } from './encrypted-data-fields';
import { IsStorableText } from '../../common/validation/is-storable-text';
import { IsJsonObjectString } from './validators';

const withRawData = (o: WechatLoginRequest) => o.rawData !== undefined || o.signature !== undefined;
const withEncryptedData = (o: WechatLoginRequest) => o.encryptedData !== undefined || o.iv !== undefined;

/** What the mini program sends after `wx.login()` (and optionally `wx.getUserInfo()`). */
@ApiSchema({ description: 'What the mini program sends after `wx.login()`: the code, and optionally the profile data of `wx.getUserInfo()`' })
export class WechatLoginRequest {
  @ApiProperty({ description: 'The temporary login code from `wx.login()`: valid once, for 5 minutes', minLength: 1, maxLength: 128, example: '0a3Xk0ll2dCl0e4nGWll2ex1Vd3Xk0lH' })
  @IsString()
  @Length(1, 128)
  // It travels in WeChat's query string: text that is not valid Unicode could not be encoded there.
  @IsStorableText(128)
  code: string;

  @ApiPropertyOptional({
    description:
      'The mini program the code is of (its AppID, as `wx.getAccountInfoSync().miniProgram.appId` gives it). Required when the service serves several mini programs; with one it may be left out. An unknown one is refused (400).',
    maxLength: 64,
    example: 'wx8a1b2c3d4e5f6a7b',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  appId?: string;

  @ApiPropertyOptional({
    description: 'Non-sensitive profile JSON from `wx.getUserInfo()` (`userInfo` as a string). Requires `signature`.',
    example: '{"nickName":"Mini Tester","gender":1,"language":"zh_CN","city":"Shenzhen","province":"Guangdong","country":"China","avatarUrl":"https://thirdwx.qlogo.cn/mmopen/vi_32/avatar/132"}',
    maxLength: 16384,
  })
  @ValidateIf(withRawData)
  @IsDefined({ message: 'rawData is required when signature is given' })
  @IsString()
  @MaxLength(16384)
  @IsJsonObjectString()
  rawData?: string;

  @ApiPropertyOptional({
    description: '`sha1(rawData + session_key)` in hex, from `wx.getUserInfo()`. Requires `rawData`.',
    pattern: '^[0-9a-fA-F]{40}$',
    example: '75e81ceda165f4ffa64f4068af58c64b8f54b88c',
  })
  @ValidateIf(withRawData)
  @IsDefined({ message: 'signature is required when rawData is given' })
  @IsString()
  @Matches(/^[0-9a-fA-F]{40}$/, { message: 'signature must be 40 hex characters' })
  signature?: string;

  @EncryptedDataField({
    when: withEncryptedData,
    missing: 'encryptedData is required when iv is given',
    description: 'Encrypted user data (base64) from `wx.getUserInfo()`; carries unionId. Requires `iv`.',
    example: 'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142d',
  })
  encryptedData?: string;

  @EncryptedDataIvField({
    when: withEncryptedData,
    missing: 'iv is required when encryptedData is given',
    description: 'The AES initialisation vector for `encryptedData`: base64 of 16 bytes. Requires `encryptedData`.',
  })
  iv?: string;
}
