/**
 * Structured logging (pino) to stderr, so that stdout stays for command output. Secrets are
 * redacted by key; values inside free text are scrubbed by callers with `createScrubber`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

function fdOf(stream: NodeJS.WritableStream): number | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  return typeof fd === 'number' ? fd : undefined;
}

/** Creates the process logger. `level` is pino's (`info`, `debug`, … or `silent`); `destination` stderr or any writable stream. */
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
    // A file descriptor (stderr) gets pino's synchronous writer; any other stream is written as is.
    fdOf(destination) === undefined ? destination : pino.destination({ dest: fdOf(destination), sync: true }),
  );
}
