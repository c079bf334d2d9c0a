import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsString, Length, MaxLength, ValidateIf } from 'class-validator';
import { ExcludesFields, IsBase64Bytes } from './validators';

const legacy = (o: PhoneNumberRequest) => o.code === undefined;

/**
 * `POST /wechat/phone`, in one of two forms: `{ code }` from the getPhoneNumber button (current
 * API), or `{ encryptedData, iv }` (legacy, decrypted with the session_key of the last login).
 */
export class PhoneNumberRequest {
  @ApiPropertyOptional({
    description: 'The `code` of the getPhoneNumber button event (current API). Do not combine with encryptedData/iv.',
    minLength: 1,
    maxLength: 128,
    example: 'e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144',
  })
  @ValidateIf((o: PhoneNumberRequest) => o.code !== undefined)
  @IsString()
  @Length(1, 128)
  @ExcludesFields(['encryptedData', 'iv'])
  code?: string;

  @ApiPropertyOptional({
    description: 'Legacy: `encryptedData` of the getPhoneNumber event (base64). Requires `iv`.',
    format: 'byte',
    example:
      'Kf3TdPbzEmhWMuPKtlKxIWDkijhn402w1bxoHL4kLdcKr6jT1jNcIhvDJfjXmJcgDWLjmBiIGJ5acUuSvxLws3WgAkERmtTuiCG10CKLsJiR+AXVk7B2TUQzsq88YVilDz/YAN3647REE7glGmeBPfvUmdbfDzhL9BzvEiuRhABuCYyTMz4iaM8hFjbLB1caaeoOlykYAFMWC5pZi9P8uw==',
  })
  @ValidateIf(legacy)
  @IsDefined({ message: 'send either code, or encryptedData with iv' })
  @IsString()
  @MaxLength(32768)
  @IsBase64Bytes()
  encryptedData?: string;

  @ApiPropertyOptional({ description: 'Legacy: the AES iv for `encryptedData`, base64 of 16 bytes.', format: 'byte', example: 'r7BXXKkLb8qrSNn05n0qiA==' })
  @ValidateIf(legacy)
  @IsDefined({ message: 'iv is required with encryptedData' })
  @IsString()
  @IsBase64Bytes(16)
  iv?: string;
}
