import pino from 'pino';
import type { Logger } from '../../ports/logger';

/**
 * Structured JSON logs. Secrets are redacted by key wherever they appear, as a second line of
 * defence: no code path should log them in the first place.
 */
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const logger = pino(
    {
      level: opts.level ?? 'info',
      base: { app: 'keyturn' },
      redact: {
        paths: [
          '*.token',
          '*.signingSecret',
          '*.secret',
          '*.password',
          'token',
          'signingSecret',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    opts.destination,
  );
  return {
    debug: (fields, msg) => logger.debug(fields, msg),
    info: (fields, msg) => logger.info(fields, msg),
    warn: (fields, msg) => logger.warn(fields, msg),
    error: (fields, msg) => logger.error(fields, msg),
  };
}
