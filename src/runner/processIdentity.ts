/**
 * Telling whether the process that owns a run or a lock is still the same live process. A pid
 * alone is not enough: after a reboot, in containers with a fixed hostname, or simply after pid
 * reuse, another process can carry the dead owner's pid. On Linux a process is identified by the
 * boot id and its start time (/proc/<pid>/stat field 22); elsewhere by the pid only.
 */
import { readFileSync } from 'node:fs';

/** True when a process with this pid exists on this host (any process). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** `<boot id>:<start time in clock ticks>` of a process, or '' when /proc cannot tell (not Linux, gone). */
export function processIdentity(pid: number): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name "(…)" start at field 3; the start time is field 22.
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return startTicks ? `${boot}:${startTicks}` : '';
  } catch {
    return '';
  }
}

/**
 * True when the process recorded as (`pid`, `identity`) on this host is still running. An empty
 * recorded identity (written where /proc was unavailable) falls back to the pid check.
 */
export function ownerAlive(pid: number, identity: string): boolean {
  if (!pidAlive(pid)) return false;
  if (identity === '') return true;
  const now = processIdentity(pid);
  return now === '' || now === identity;
}
