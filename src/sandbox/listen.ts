/** Starting a sandbox's HTTP server on loopback. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on `host:port` (default 127.0.0.1 and a free port).
 * @returns the server's base URL, e.g. `http://127.0.0.1:41234`.
 * @throws the listen error (e.g. EADDRINUSE).
 */
export async function listen(
  server: Server,
  options: { host?: string | undefined; port?: number | undefined },
): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** Delays a sandbox answers with (fault `delayMs`), all cancellable at close. */
export interface Delays {
  /** Resolves after `ms`, or never once `cancelAll` ran (the connection is dropped anyway). */
  wait(ms: number): Promise<void>;
  cancelAll(): void;
}

/** Creates the delay set of one sandbox. */
export function createDelays(): Delays {
  const timers = new Set<NodeJS.Timeout>();
  return {
    wait: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, ms);
        timers.add(t);
      }),
    cancelAll() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
