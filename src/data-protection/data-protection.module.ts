import { Global, Module } from '@nestjs/common';
import { MobileVault } from './mobile-vault';

/** Encryption of personal data at rest (DATA_ENCRYPTION_KEY). Global: any module may store a number. */
@Global()
@Module({ providers: [MobileVault], exports: [MobileVault] })
export class DataProtectionModule {}
