import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength, ValidateIf } from 'class-validator';

/** The longest `encryptedData` text accepted. */
const MAX_ENCRYPTED_DATA = 32768;

/** One field of an `{ encryptedData, iv }` pair, in a request that may also come without it. */
interface PairFieldOptions<T> {
  /** Whether this request carries the pair: its fields are then validated and required. */
  when: (request: T) => boolean;
  /** The 400 message when this field is missing from a request that carries the pair. */
  missing: string;
  description: string;
}

/**
 * WeChat's `encryptedData` (base64 of AES-128-CBC ciphertext under the session_key), as the login
 * and the legacy phone number request take it. The checks run in the order listed and only the
 * first failure is reported (stopAtFirstError). Only presence, type and size are validated here: a
 * string that is not base64, or an iv that is not 16 bytes, is undecryptable data, DECRYPT_FAILED
 * (WechatCrypto.decode, before any WeChat call).
 */
export function EncryptedDataField<T>({ when, missing, description, example }: PairFieldOptions<T> & { example: string }): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, format: 'byte', maxLength: MAX_ENCRYPTED_DATA, example }),
    ValidateIf(when),
    IsDefined({ message: missing }),
    IsString(),
    MaxLength(MAX_ENCRYPTED_DATA),
  );
}

/** The `iv` that goes with `encryptedData`: base64 of 16 bytes (decoded and checked as above). */
export function EncryptedDataIvField<T>({ when, missing, description }: PairFieldOptions<T>): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ description, format: 'byte', example: 'r7BXXKkLb8qrSNn05n0qiA==' }), ValidateIf(when), IsDefined({ message: missing }), IsString());
}
