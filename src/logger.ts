/**
 * Structured logging (pino) to stderr, so that stdout stays for command output. Secrets are
 * redacted by key; values inside free text are scrubbed by callers with `createScrubber`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Creates the process logger. `level` is pino's (`info`, `debug`, … or `silent`). */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: [
          'token',
          'accessToken',
          'refreshToken',
          'password',
          'secret',
          'authorization',
          '*.token',
          '*.accessToken',
          '*.refreshToken',
          '*.password',
          '*.clientSecret',
          '*.authorization',
          'headers.authorization',
          'headers.Authorization',
        ],
        censor: '***',
      },
    },
    pino.destination({ dest: (destination as { fd?: number }).fd ?? 2, sync: true }),
  );
}
