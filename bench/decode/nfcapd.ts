// The peer: Debian's nfcapd (nfdump 1.7.1) pinned to CPU 1 (CPU 0 on a 1-CPU machine), fed the very packets Sluice
// decodes, over UDP loopback from this process (on CPU 0), paced so that nothing is lost.
// Its CPU time (utime + stime of all its threads, from /proc/PID/stat) is read around each
// burst once its socket has drained, so the figure is records per CPU-second of nfcapd
// alone: receiving, decoding and writing its files, not starting or stopping. Whether it
// lost anything is checked twice: the flows its files hold (`nfdump -I`) against the
// flows sent, and the kernel's drop counter of its socket.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Datagram } from '../../collector/src/flow/decoder.js';
import { exited, outputOf, removeDir, spawnTracked, trackDir } from './children.js';
import { median } from './sluice.js';

export interface PeerResult {
  /** Median over the bursts of records per nfcapd CPU-second. */
  recordsPerCpuS: number;
  burstCpuS: number[];
  sentRecords: number;
  storedRecords: number;
  /** Datagrams the kernel dropped on nfcapd's socket (from /proc/net/udp). */
  socketDrops: number;
  sentPps: number;
  peakRssKiB: number;
  attempts: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function nfcapdVersion(): string | undefined {
  try {
    return execFileSync('nfcapd', ['-V'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

export function clockTicks(): number {
  return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
}

/** utime + stime of the whole process (all threads), in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(rest[11]) + Number(rest[12]);
}

function peakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** The socket bound to 127.0.0.1:port in /proc/net/udp: receive queue bytes, drops. */
function udpSocket(port: number): { rxQueue: number; drops: number } | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== local) continue;
    const rx = (f[4] ?? '0:0').split(':')[1] ?? '0';
    return { rxQueue: Number.parseInt(rx, 16), drops: Number(f[f.length - 1]) };
  }
  return undefined;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Flows nfcapd stored, from the stat records of its files (`nfdump -I`). */
function storedFlows(flowDir: string): number {
  const out = execFileSync('nfdump', ['-R', flowDir, '-I'], { encoding: 'utf8' });
  const m = /^Flows: (\d+)$/m.exec(out);
  if (!m) throw new Error(`no "Flows:" line in nfdump -I output:\n${out}`);
  return Number(m[1]);
}

/**
 * Sends `count` datagrams of the cycle, starting at `from`, at `pps` packets per second,
 * in batches whose sends complete before the next. Returns the records they carry.
 */
async function sendPaced(
  port: number,
  datagrams: readonly Datagram[],
  recordsAt: readonly number[],
  from: number,
  count: number,
  pps: number,
): Promise<{ records: number; seconds: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
  const batch = 32;
  const t0 = performance.now();
  let records = 0;
  let i = 0;
  try {
    while (i < count) {
      const n = Math.min(batch, count - i);
      await new Promise<void>((resolve, reject) => {
        let pending = n;
        for (let k = 0; k < n; k++) {
          const at = (from + i + k) % datagrams.length;
          records += recordsAt[at] ?? 0;
          socket.send((datagrams[at] as Datagram).bytes, (err) => {
            if (err) reject(err);
            else if (--pending === 0) resolve();
          });
        }
      });
      i += n;
      const ahead = t0 + (i / pps) * 1000 - performance.now();
      if (ahead > 1) await sleep(ahead);
    }
  } finally {
    socket.close();
  }
  return { records, seconds: (performance.now() - t0) / 1000 };
}

/** Waits until nfcapd has read everything and stopped spending CPU on it. */
async function drained(pid: number, port: number): Promise<void> {
  let last = -1;
  let still = 0;
  for (let i = 0; i < 400; i++) {
    await sleep(25);
    const sock = udpSocket(port);
    const ticks = cpuTicks(pid);
    still = sock?.rxQueue === 0 && ticks === last ? still + 1 : 0;
    if (still >= 3) return;
    last = ticks;
  }
  throw new Error('nfcapd did not drain its socket within 10 s');
}

interface Burst {
  datagrams: readonly Datagram[];
  recordsAt: readonly number[];
  from: number;
  packets: number;
  pps: number;
  cpu: string;
}

interface BurstResult {
  cpuS: number;
  sentRecords: number;
  sentSeconds: number;
  storedRecords: number;
  socketDrops: number;
  peakRssKiB: number;
}

/**
 * One burst through a fresh nfcapd, whose files are deleted afterwards. A long-lived
 * nfcapd was tried first: its file-writing thread's system time grew burst after burst
 * as its output (about 125 bytes per flow) ran into gigabytes and the kernel had to find
 * fresh pages, on disk and on tmpfs alike. That cost is the machine's, not nfcapd's, so
 * each burst starts from a clean slate.
 */
async function burst(b: Burst, ticksPerS: number): Promise<BurstResult> {
  const root = trackDir(mkdtempSync(join(tmpdir(), 'sluice-bench-nfcapd-')));
  const flowDir = join(root, 'flows');
  mkdirSync(flowDir);
  const port = await freeUdpPort();
  // taskset execs nfcapd, so the child's pid is nfcapd's.
  const child = spawnTracked('taskset', [
    '-c',
    b.cpu,
    'nfcapd',
    '-b',
    '127.0.0.1',
    '-p',
    String(port),
    '-w',
    flowDir,
    '-t',
    '3600',
    '-B',
    '8388608',
    '-P',
    join(root, 'nfcapd.pid'),
  ]);
  const output = outputOf(child);
  const pid = child.pid;
  try {
    if (pid === undefined) throw new Error('could not start taskset/nfcapd');
    for (let i = 0; !udpSocket(port); i++) {
      if (child.exitCode !== null || i > 200) {
        throw new Error(`nfcapd did not start listening on ${port}:\n${output()}`);
      }
      await sleep(25);
    }
    const c0 = cpuTicks(pid);
    const sent = await sendPaced(port, b.datagrams, b.recordsAt, b.from, b.packets, b.pps);
    await drained(pid, port);
    const cpuS = (cpuTicks(pid) - c0) / ticksPerS;
    const peak = peakRssKiB(pid);
    const socketDrops = udpSocket(port)?.drops ?? 0;
    child.kill('SIGTERM');
    const code = await Promise.race([exited(child), sleep(10_000).then(() => 'timeout')]);
    if (code !== 0) throw new Error(`nfcapd ended with ${code}:\n${output()}`);
    return {
      cpuS,
      sentRecords: sent.records,
      sentSeconds: sent.seconds,
      storedRecords: storedFlows(flowDir),
      socketDrops,
      peakRssKiB: peak,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
    removeDir(root);
  }
}

/**
 * Runs `bursts` bursts of the stream through nfcapd; if any burst lost records, halves
 * the rate and starts again (up to 3 attempts).
 */
export async function measureNfcapd(
  datagrams: readonly Datagram[],
  recordsAt: readonly number[],
  opts: { bursts: number; burstSeconds: number; pps: number; cpu: string },
): Promise<PeerResult> {
  const ticksPerS = clockTicks();
  let pps = opts.pps;
  for (let attempts = 1; ; attempts++) {
    const packets = Math.round(pps * opts.burstSeconds);
    const runs: BurstResult[] = [];
    for (let i = 0; i < opts.bursts; i++) {
      const from = (i * packets) % datagrams.length;
      runs.push(
        await burst({ datagrams, recordsAt, from, packets, pps, cpu: opts.cpu }, ticksPerS),
      );
    }
    const sum = (f: (r: BurstResult) => number) => runs.reduce((n, r) => n + f(r), 0);
    const result: PeerResult = {
      recordsPerCpuS: median(runs.map((r) => r.sentRecords / r.cpuS)),
      burstCpuS: runs.map((r) => r.cpuS),
      sentRecords: sum((r) => r.sentRecords),
      storedRecords: sum((r) => r.storedRecords),
      socketDrops: sum((r) => r.socketDrops),
      sentPps: (opts.bursts * packets) / sum((r) => r.sentSeconds),
      peakRssKiB: Math.max(...runs.map((r) => r.peakRssKiB)),
      attempts,
    };
    const lossFree = result.storedRecords >= result.sentRecords && result.socketDrops === 0;
    if (lossFree || attempts === 3) return result;
    pps = Math.round(pps / 2);
  }
}
