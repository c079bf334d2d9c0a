import pino, { type DestinationStream, type Logger } from 'pino';
import { maskMobile } from '../../data-protection/mobile-number';

/**
 * Everything that must never reach a log line, wherever it appears: tokens, WeChat credentials,
 * session keys and encrypted user data (README, Security notes). Upstream calls are logged
 * by path only, so query strings carrying `secret`, `js_code` or `access_token` never get here.
 */
const PHONE_PATHS = ['*.mobile', '*.phoneNumber', '*.purePhoneNumber'];
const PHONE_KEYS = new Set(PHONE_PATHS.map((p) => p.slice(2)));

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.token',
  '*.access_token',
  '*.accessToken',
  '*.secret',
  '*.appSecret',
  '*.session_key',
  '*.sessionKey',
  '*.encryptedData',
  '*.js_code',
  '*.jsCode',
  '*.password',
  // Phone numbers are masked rather than removed (138****8000), so a line still says which one.
  ...PHONE_PATHS,
];

export interface RootLoggerOptions {
  level: string;
  pretty: boolean;
  /** Where lines go instead of stdout (tests capture the log this way). */
  destination?: DestinationStream;
}

export function createRootLogger({ level, pretty, destination }: RootLoggerOptions): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: (value: unknown, path: string[]) => (PHONE_KEYS.has(path[path.length - 1]) ? maskMobile(String(value)) : '[redacted]') },
    // Epoch milliseconds: a third of the cost of an ISO string on every line; pino-pretty shows it readable.
    timestamp: pino.stdTimeFunctions.epochTime,
  };
  if (destination) return pino(options, destination);
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  // Lines are written in 4 KiB batches rather than one write(2) per line (a line per request),
  // and at least every 250 ms so a quiet service's lines are not held back; pino flushes what is
  // left when the process exits.
  const stdout = pino.destination({ dest: 1, minLength: 4096, sync: false });
  setInterval(() => {
    try {
      stdout.flush();
    } catch {
      // not ready yet, or already writing: the next tick flushes
    }
  }, 250).unref();
  return pino(options, stdout);
}
