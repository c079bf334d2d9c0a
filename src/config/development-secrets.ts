import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from './configuration';
import { parseDataKey } from './profile-settings';

/**
 * The start-up step that gives generated development secrets a life beyond the process: the JWT
 * secret (tokens survive a restart) and the data key (stored phone numbers and session keys stay
 * readable) are created once and kept under the data folder. Never used in production, where the
 * configuration refuses to start without them.
 */
export function keepDevelopmentSecrets(config: AppConfig): AppConfig {
  const { dataDir } = config.app;
  let kept = config;
  if (config.jwt.generated)
    kept = {
      ...kept,
      jwt: {
        ...kept.jwt,
        secret: keptSecret(
          dataDir,
          'dev-jwt-secret',
          () => randomBytes(48).toString('base64url'),
          (s) => s.length >= 32,
        ),
      },
    };
  if (config.dataProtection.generated) {
    const text = keptSecret(
      dataDir,
      'dev-data-encryption-key',
      () => randomBytes(32).toString('base64'),
      (s) => parseDataKey(s) !== undefined,
    );
    kept = { ...kept, dataProtection: { ...kept.dataProtection, current: parseDataKey(text)! } };
  }
  return kept;
}

/** The secret in `dataDir/name` when it is valid; otherwise a new one, written there (0600). */
function keptSecret(dataDir: string, name: string, create: () => string, valid: (text: string) => boolean): string {
  const file = join(dataDir, name);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (valid(existing)) return existing;
  } catch {
    // not created yet
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = create();
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
