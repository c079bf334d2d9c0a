import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ENTITIES } from './src/database/database.module';
import { MIGRATIONS } from './src/database/migrations';
import { parseDataKey } from './src/config/profile-settings';
import { FieldCipher } from './src/data-protection/field-cipher';
import { provideMigrationCipher } from './src/data-protection/migration-cipher';

/**
 * The DataSource for the TypeORM CLI (`npm run migration:run | migration:revert | migration:generate`).
 * The app applies pending migrations itself at start; the CLI needs DATABASE_URL.
 */
const dataSource = new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL,
  entities: ENTITIES,
  migrations: MIGRATIONS,
  synchronize: false,
});
// The migration that encrypts stored phone numbers needs the key (only when there are numbers to encrypt).
const dataKey = process.env.DATA_ENCRYPTION_KEY ? parseDataKey(process.env.DATA_ENCRYPTION_KEY) : undefined;
if (dataKey) provideMigrationCipher(dataSource, new FieldCipher({ current: dataKey, previous: [] }));
export default dataSource;
