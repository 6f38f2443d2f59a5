/**
 * Runs the real `etl` executable in a child process (through tsx, from the sources), for the
 * checks that need separate processes: locks across processes, SIGKILL, exit codes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = path.join(ROOT, 'src', 'cli', 'etl.ts');
/** tsx's loader by absolute URL, so a child started in another directory (cwd) still finds it. */
const TSX = import.meta.resolve('tsx');

/** What a finished CLI process printed and returned. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `etl <args>` with exactly `env` (plus PATH and HOME). */
export function spawnEtl(
  args: string[],
  env: Record<string, string>,
  cwd: string = ROOT,
): ChildProcess & { result: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', TSX, ENTRY, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(child, { result });
}

/** Runs `etl <args>` to completion. */
export function runEtl(args: string[], env: Record<string, string>, cwd?: string): Promise<CliResult> {
  return spawnEtl(args, env, cwd).result;
}

/** Resolves when `child`'s stderr has printed a line matching `pattern`. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${String(pattern)}; got: ${seen}`)),
      timeoutMs,
    );
    const onData = (b: Buffer) => {
      seen += b.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
  });
}
