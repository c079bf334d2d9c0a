import { Injectable, Logger } from '@nestjs/common';
import { InjectDataProtectionSettings } from '../config/config.module';
import type { DataProtectionSettings } from '../config/profile-settings';
import type { UserDto } from '../users/dto/user.dto';
import { FieldCipher } from './field-cipher';
import { maskMobile, MOBILE_PURPOSE, normalizeMobile, sealMobile, type SealedMobile } from './mobile-number';

/**
 * Phone numbers at rest: sealed before they are written, opened only for the owner's own answers.
 * Everything else (the database, the profile cache, log lines) holds the envelope or a mask.
 */
@Injectable()
export class MobileVault {
  private readonly logger = new Logger(MobileVault.name);
  private readonly cipher: FieldCipher;

  constructor(@InjectDataProtectionSettings() settings: DataProtectionSettings) {
    this.cipher = new FieldCipher(settings);
  }

  seal(number: string): SealedMobile {
    return sealMobile(this.cipher, number);
  }

  /** Lookup hashes of a number under every known key, for `"mobile_hash" = ANY($1)`. */
  lookupHashes(number: string): string[] {
    return this.cipher.lookupHashes(normalizeMobile(number), MOBILE_PURPOSE);
  }

  mask(number: string): string {
    return maskMobile(number);
  }

  /**
   * The user as their owner sees it: `mobile` opened. Cheap when there is no number (most users);
   * a number that cannot be opened (its key was dropped) shows as absent, with `hasMobile` still true.
   */
  reveal(user: UserDto): UserDto {
    if (!user.mobile || !FieldCipher.isEnvelope(user.mobile)) return user;
    try {
      return { ...user, mobile: this.cipher.open(user.mobile, MOBILE_PURPOSE) };
    } catch (err) {
      this.logger.error({ userId: user.id, reason: (err as Error).message }, 'stored phone number could not be decrypted');
      return { ...user, mobile: null };
    }
  }
}
