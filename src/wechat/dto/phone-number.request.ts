import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsString, Length, ValidateIf } from 'class-validator';
import { EncryptedDataField, EncryptedDataIvField } from './encrypted-data-fields';
import { ExcludesFields } from './validators';

const legacy = (o: PhoneNumberRequest) => o.code === undefined;

/**
 * `POST /wechat/phone`, in one of two forms: `{ code }` from the getPhoneNumber button (current
 * API), or `{ encryptedData, iv }` (legacy, decrypted with the session_key of the last login).
 */
@ApiSchema({ description: 'Either `{ code }` (current API) or `{ encryptedData, iv }` (legacy), never both' })
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

  @EncryptedDataField({
    when: legacy,
    missing: 'send either code, or encryptedData with iv',
    description: 'Legacy: `encryptedData` of the getPhoneNumber event (base64). Requires `iv`.',
    example:
      'Kf3TdPbzEmhWMuPKtlKxIWDkijhn402w1bxoHL4kLdcKr6jT1jNcIhvDJfjXmJcgDWLjmBiIGJ5acUuSvxLws3WgAkERmtTuiCG10CKLsJiR+AXVk7B2TUQzsq88YVilDz/YAN3647REE7glGmeBPfvUmdbfDzhL9BzvEiuRhABuCYyTMz4iaM8hFjbLB1caaeoOlykYAFMWC5pZi9P8uw==',
  })
  encryptedData?: string;

  @EncryptedDataIvField({ when: legacy, missing: 'iv is required with encryptedData', description: 'Legacy: the AES iv for `encryptedData`, base64 of 16 bytes.' })
  iv?: string;
}
