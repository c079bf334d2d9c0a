import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ENTITIES } from './src/database/database.module';
import { MIGRATIONS } from './src/database/migrations';

/**
 * The DataSource for the TypeORM CLI (`npm run migration:run | migration:revert | migration:generate`).
 * The app applies pending migrations itself at start; the CLI needs DATABASE_URL.
 */
export default new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL,
  entities: ENTITIES,
  migrations: MIGRATIONS,
  synchronize: false,
});
