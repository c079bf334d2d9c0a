import type { DataSource } from 'typeorm';
import type { FieldCipher } from './field-cipher';

/**
 * How a migration gets the data key: the code that runs migrations (the app's MigrationRunner, or
 * ormconfig.ts for the CLI) hands the cipher over for its own DataSource here. Keyed by DataSource,
 * so several apps in one process (tests) never see each other's keys, and the key never goes
 * through SQL text, the migrations table or the environment of a migration class.
 */
const ciphers = new WeakMap<DataSource, FieldCipher>();

export function provideMigrationCipher(dataSource: DataSource, cipher: FieldCipher): void {
  ciphers.set(dataSource, cipher);
}

export function migrationCipher(dataSource: DataSource): FieldCipher | undefined {
  return ciphers.get(dataSource);
}
