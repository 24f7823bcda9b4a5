// What the kernel knows about the collector process: CPU time (all its threads: the
// decode workers, libuv's pool, V8's GC helpers), memory, and its UDP socket's drops.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readUdpDrops } from '../../collector/src/metrics/procnet.js';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * utime + stime of a process, seconds: /proc/PID/stat sums every thread of the process
 * (proc(5): fields 14 and 15, counted after the parenthesised command name).
 */
export function cpuSeconds(pid: number): number {
  return statCpu(`/proc/${pid}/stat`);
}

/** The fields of a /proc stat file after the command name: f[0] is field 3 (state), field N is f[N - 3]. */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function statCpu(path: string): number {
  const f = statFields(path);
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/**
 * utime + stime of each thread of a process, seconds, by thread id (the main thread's
 * id is the process id). Why: a CPU profile on a busy 2-core machine counts wall time
 * and hides which thread pays; the kernel's per-thread counters do not.
 */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), statCpu(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/**
 * utime + stime of every process in a process group, seconds (the Elasticsearch node:
 * its launcher JVM starts the server JVM as a child in the same group). Processes that
 * ended are not counted, so read it around a span in which none ends.
 */
export function groupCpuSeconds(pgid: number): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const f = statFields(`/proc/${name}/stat`);
      // f[2] is field 5, the process group.
      if (Number(f[2]) === pgid) total += (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      // the process ended between the listing and the read
    }
  }
  return total;
}

/**
 * Starts a process's peak RSS (VmHWM) over from its RSS now (proc(5): writing 5 to
 * /proc/PID/clear_refs, Linux 4.0 and later); false when the kernel refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** A `kB` line of /proc/PID/status (VmHWM: peak RSS, VmRSS: now), in bytes. */
export function statusBytes(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** Datagrams the kernel dropped on the UDP socket(s) bound to this port (both families). */
export async function udpDrops(port: number): Promise<number> {
  return (await readUdpDrops(new Set([port]))).reduce((a, d) => a + d.drops, 0);
}
