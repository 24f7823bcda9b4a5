/**
 * Runs the real flow exporters from Debian (softflowd, pmacctd nfprobe/sfprobe, fprobe)
 * on a capture and collects what they send: a UDP socket in this process (or, for
 * fprobe, a receiver inside the network namespace) takes every datagram with its arrival
 * time and source, and the datagrams are also written into a pcap (with an
 * Ethernet/IP/UDP wrapper) so tshark can decode the very same bytes as the oracle.
 * Every process started here is killed before the helper returns, and on exit.
 * Recipes and quirks: ../../../shared/PEERS.md.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerStartError, ServerUnavailableError } from './errors.js';
import { pcapFile, udpFrame } from './traffic.js';
import { which } from './which.js';

/** One datagram an exporter sent. */
export interface ReceivedDatagram {
  readonly bytes: Uint8Array;
  /** Arrival time, ms since the epoch. */
  readonly receivedMs: number;
  /** Exporter (UDP source) address and port. */
  readonly address: string;
  readonly port: number;
}

export interface ExportCapture {
  /** Which exporter and format, for messages. */
  readonly name: string;
  readonly datagrams: ReceivedDatagram[];
  /** Where the datagrams were sent (the collector side). */
  readonly collector: { readonly address: string; readonly port: number };
  /** The datagrams as a capture (Ethernet/IP/UDP to `collector.port`), for tshark. */
  readonly pcap: string;
  /** Exporter output (stdout and stderr). */
  readonly logFile: string;
  /** Live capture only (fprobe): when the traffic was replayed, ms since the epoch. */
  readonly replayed?: { readonly fromMs: number; readonly toMs: number };
}

const SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Full path of a binary, or a ServerUnavailableError naming the Debian package. */
export function requireBinary(name: string, aptPackage: string): string {
  const bin = which(
    name,
    SBIN.map((d) => join(d, name)),
  );
  if (!bin)
    throw new ServerUnavailableError(`${name} is not installed: apt-get install -y ${aptPackage}`);
  return bin;
}

/** Process groups still running, killed if this process exits first. */
const running = new Set<number>();
/** Network namespaces still present, deleted if this process exits first. */
const namespaces = new Set<string>();
let nsCounter = 0;
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pid of running) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM (or `signal`) to the group, SIGKILL after graceMs; resolves once it is gone. */
async function killGroup(
  pid: number,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 3000,
): Promise<void> {
  const deadline = Date.now() + graceMs;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
  while (groupAlive(pid) && Date.now() < deadline) await sleep(20);
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (groupAlive(pid)) await sleep(20);
  }
  running.delete(pid);
}

interface Spawned {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * A detached shell that outlives us if we are killed outright (no exit hook runs then):
 * it polls our pid, then runs `cleanup` ($1... are `args`).
 */
function watchdog(cleanup: string, args: readonly string[]): ChildProcess {
  const script = `while kill -0 "$0" 2>/dev/null; do sleep 1; done; ${cleanup}`;
  const w = spawn('sh', ['-c', script, String(process.pid), ...args], {
    detached: true,
    stdio: 'ignore',
  });
  w.unref();
  return w;
}

/**
 * Starts a process in its own group, output to `logFile` (stdout piped back instead
 * when `pipeStdout`); tracked for clean-up, with a watchdog for the case we are killed.
 */
function start(
  command: string,
  args: readonly string[],
  logFile: string,
  pipeStdout = false,
): Spawned {
  hookExit();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, [...args], {
      detached: true,
      stdio: ['ignore', pipeStdout ? 'pipe' : fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid ?? -1;
  if (pid > 0) running.add(pid);
  const guard =
    pid > 0
      ? watchdog('kill -TERM "-$1" 2>/dev/null; sleep 5; kill -KILL "-$1" 2>/dev/null', [
          String(pid),
        ])
      : undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: -1, signal: null }));
  });
  return {
    child,
    pid,
    exited,
    stop: async (signal, graceMs) => {
      if (pid > 0) await killGroup(pid, signal, graceMs);
      await exited;
      guard?.kill('SIGKILL');
    },
  };
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Runs a command to completion (killed after timeoutMs); fails on a non-zero exit, unless
 * `acceptExit` says that exit is a known clean ending (it sees the code and the log).
 */
async function runToExit(
  name: string,
  command: string,
  args: readonly string[],
  logFile: string,
  timeoutMs: number,
  acceptExit?: (code: number | null, log: string) => boolean,
): Promise<void> {
  const p = start(command, args, logFile);
  try {
    const res = await Promise.race([p.exited, deadline(timeoutMs)]);
    if (res === undefined)
      throw new ServerStartError(
        `${name} did not exit within ${timeoutMs} ms`,
        tail(logFile),
        logFile,
      );
    if (res.code !== 0 && !acceptExit?.(res.code, tail(logFile)))
      throw new ServerStartError(
        `${name} exited with ${res.code ?? res.signal}`,
        tail(logFile),
        logFile,
      );
  } finally {
    await p.stop('SIGKILL');
  }
}

/** Resolves undefined after ms without keeping the process alive for it. */
function deadline(ms: number): Promise<undefined> {
  return sleep(ms, undefined, { ref: false });
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A UDP socket on loopback that keeps every datagram it receives. */
export class UdpCollector {
  readonly datagrams: ReceivedDatagram[] = [];
  private lastMs = 0;

  private constructor(
    private readonly socket: ReturnType<typeof createSocket>,
    readonly address: string,
    readonly port: number,
  ) {}

  static async open(address = '127.0.0.1'): Promise<UdpCollector> {
    const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setRecvBufferSize(8 * 1024 * 1024);
    const c = new UdpCollector(socket, address, socket.address().port);
    socket.on('message', (msg, rinfo) => {
      c.lastMs = nowMs();
      c.datagrams.push({
        bytes: new Uint8Array(msg),
        receivedMs: c.lastMs,
        address: rinfo.address,
        port: rinfo.port,
      });
    });
    return c;
  }

  /** Resolves once nothing has arrived for quietMs (at most maxMs). */
  async settle(quietMs = 250, maxMs = 3000): Promise<void> {
    const deadline = nowMs() + maxMs;
    const since = nowMs();
    while (nowMs() < deadline) {
      const last = Math.max(this.lastMs, since);
      if (nowMs() - last >= quietMs) return;
      await sleep(25);
    }
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/** Writes datagrams into a pcap as Ethernet/IP/UDP frames sent to `collector`. */
export function writeDatagramsPcap(
  file: string,
  datagrams: readonly ReceivedDatagram[],
  collector: { address: string; port: number },
): string {
  const frames = datagrams.map((d) => ({
    timeUs: Math.round(d.receivedMs * 1000),
    frame: udpFrame(d.address, d.port, collector.address, collector.port, d.bytes),
  }));
  writeFileSync(file, pcapFile(frames));
  return file;
}

/** Opens a collector socket, runs `send(port)`, waits for the last datagrams. */
async function collect(
  name: string,
  dir: string,
  file: string,
  send: (collector: UdpCollector) => Promise<void>,
): Promise<ExportCapture> {
  const collector = await UdpCollector.open();
  try {
    await send(collector);
    await collector.settle();
  } finally {
    collector.close();
  }
  const pcap = writeDatagramsPcap(join(dir, `${file}.export.pcap`), collector.datagrams, collector);
  return {
    name,
    datagrams: collector.datagrams,
    collector: { address: collector.address, port: collector.port },
    pcap,
    logFile: join(dir, `${file}.log`),
  };
}

export interface SoftflowdOptions {
  /** The traffic to read (softflowd -r). */
  pcap: string;
  version: 1 | 5 | 9 | 10;
  /** Working directory for logs, pid file and the export capture. */
  dir: string;
  /** -6: track IPv6 flows (exported by v9 and IPFIX only). Default true. */
  ipv6?: boolean;
  /** -T vlan: flows keyed and exported with their VLAN id. Default false. */
  trackVlan?: boolean;
  /** -A: absolute time format for v9/IPFIX. Default 'milli' (quirk 2). */
  timeFormat?: 'sec' | 'milli' | 'micro' | 'nano';
  extraArgs?: readonly string[];
  timeoutMs?: number;
}

/**
 * softflowd -r FILE: reads the capture with its own timestamps (-a), exports every flow
 * at end of file and exits. `-c none` avoids a hang in accept() (quirk 1).
 */
export async function softflowdExport(o: SoftflowdOptions): Promise<ExportCapture> {
  const bin = requireBinary('softflowd', 'softflowd');
  const file = `softflowd-v${o.version}`;
  return collect(`softflowd v${o.version}`, o.dir, file, async (c) => {
    const args = ['-r', o.pcap, '-a', '-d', '-c', 'none', '-p', join(o.dir, `${file}.pid`)];
    args.push('-v', String(o.version), '-n', `${c.address}:${c.port}`);
    if (o.version === 9 || o.version === 10) args.push('-A', o.timeFormat ?? 'milli');
    if (o.ipv6 ?? true) args.push('-6');
    if (o.trackVlan) args.push('-T', 'vlan');
    args.push(...(o.extraArgs ?? []));
    await runToExit('softflowd', bin, args, join(o.dir, `${file}.log`), o.timeoutMs ?? 15_000);
  });
}

export interface PmacctOptions {
  pcap: string;
  dir: string;
  /** Extra configuration lines (key: value), appended as they are. */
  extraConfig?: readonly string[];
  timeoutMs?: number;
}

export interface NfprobeOptions extends PmacctOptions {
  version: 5 | 9 | 10;
  /** Aggregation primitives; default src_host, dst_host, src_port, dst_port, proto, tos, vlan, tcpflags. */
  aggregate?: readonly string[];
}

const NFPROBE_AGGREGATE = [
  'src_host',
  'dst_host',
  'src_port',
  'dst_port',
  'proto',
  'tos',
  'vlan',
  'tcpflags',
];

async function runPmacctd(name: string, file: string, o: PmacctOptions, config: string[]) {
  const bin = requireBinary('pmacctd', 'pmacct');
  const conf = join(o.dir, `${file}.conf`);
  writeFileSync(
    conf,
    [
      'daemonize: false',
      `pcap_savefile: ${o.pcap}`,
      `pidfile: ${join(o.dir, `${file}.pid`)}`,
      ...config,
      ...(o.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  // pmacctd sleeps 2 s after opening a savefile, then reads it and exits. When its plugin
  // finishes first (seen on a loaded machine), the core logs "no more plugins active" and
  // exits with 1 after a complete run; what was exported is checked by the callers anyway.
  await runToExit(
    name,
    bin,
    ['-f', conf],
    join(o.dir, `${file}.log`),
    o.timeoutMs ?? 20_000,
    (code, log) =>
      code === 1 &&
      log.includes('Shutting down on user request') &&
      log.includes('no more plugins active'),
  );
}

/** pmacctd with the nfprobe plugin over a capture: NetFlow v5/v9 or IPFIX. */
export async function pmacctNfprobeExport(o: NfprobeOptions): Promise<ExportCapture> {
  requireBinary('pmacctd', 'pmacct');
  const file = `pmacct-nfprobe-v${o.version}`;
  return collect(`pmacct nfprobe v${o.version}`, o.dir, file, (c) =>
    runPmacctd('pmacctd (nfprobe)', file, o, [
      'plugins: nfprobe[nf]',
      `nfprobe_receiver[nf]: ${c.address}:${c.port}`,
      `nfprobe_version[nf]: ${o.version}`,
      `aggregate[nf]: ${(o.aggregate ?? NFPROBE_AGGREGATE).join(', ')}`,
    ]),
  );
}

export interface SfprobeOptions extends PmacctOptions {
  /** 1-in-N packet sampling (default 1: one sample per packet). */
  samplingRate?: number;
  agentIp?: string;
}

/**
 * pmacctd with the sfprobe plugin: sFlow v5. It never sends its last partly filled
 * datagram (quirk 6): end the capture with filler packets you do not check.
 */
export async function pmacctSfprobeExport(o: SfprobeOptions): Promise<ExportCapture> {
  requireBinary('pmacctd', 'pmacct');
  const file = 'pmacct-sfprobe';
  return collect('pmacct sfprobe', o.dir, file, (c) =>
    runPmacctd('pmacctd (sfprobe)', file, o, [
      'plugins: sfprobe[sf]',
      `sfprobe_receiver[sf]: ${c.address}:${c.port}`,
      `sfprobe_agentip[sf]: ${o.agentIp ?? '127.0.0.1'}`,
      `sampling_rate[sf]: ${o.samplingRate ?? 1}`,
    ]),
  );
}

export interface FprobeOptions {
  pcap: string;
  dir: string;
  version: 1 | 5 | 7;
  /** tcpreplay rate (packets per second); default: the capture's own timing. */
  pps?: number;
  /** Also run a second fprobe for 802.1Q-tagged frames (-K 18 -f vlan, quirk 7). */
  vlanInstance?: boolean;
  timeoutMs?: number;
}

/** Root may create network namespaces here (ip netns); false when it cannot. */
export function netnsAvailable(): boolean {
  if (
    process.getuid?.() !== 0 ||
    !which(
      'ip',
      SBIN.map((d) => join(d, 'ip')),
    )
  )
    return false;
  const ns = `sluice-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const RECEIVER = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => process.stdout.write(JSON.stringify([performance.timeOrigin + performance.now(), r.address, r.port, m.toString('hex')]) + '\\n'));
s.bind({ address: '127.0.0.1', port: 0 }, () => { s.setRecvBufferSize(8 << 20); process.stdout.write(JSON.stringify(s.address().port) + '\\n'); });
`;

/**
 * fprobe captures live only: inside a fresh network namespace, a veth pair carries the
 * capture (tcpreplay on one end, fprobe on the other), and a receiver inside the
 * namespace (node, on its loopback) hands the export datagrams back over a pipe.
 * SIGTERM makes fprobe export what it still holds. The namespace is always deleted.
 */
export async function fprobeExport(o: FprobeOptions): Promise<ExportCapture> {
  const fprobe = requireBinary('fprobe', 'fprobe');
  const tcpreplay = requireBinary('tcpreplay', 'tcpreplay');
  const ip = requireBinary('ip', 'iproute2');
  if (!netnsAvailable())
    throw new ServerUnavailableError('fprobe needs a network namespace: run as root with ip netns');
  hookExit();
  nsCounter += 1;
  const ns = `sluice-fprobe-${process.pid}-${nsCounter}`;
  const file = `fprobe-v${o.version}`;
  const logFile = join(o.dir, `${file}.log`);
  const inNs = (args: string[]) => ['netns', 'exec', ns, ...args];
  const sh = (args: string[]) => execFileSync(ip, args, { stdio: 'pipe' });
  const datagrams: ReceivedDatagram[] = [];
  let port = 0;
  let replayFrom = 0;
  let replayTo = 0;
  const procs: Spawned[] = [];
  namespaces.add(ns);
  const nsGuard = watchdog('ip netns del "$1" 2>/dev/null', [ns]);
  try {
    sh(['netns', 'add', ns]);
    sh(inNs([ip, 'link', 'set', 'lo', 'up']));
    sh(inNs([ip, 'link', 'add', 'vA', 'type', 'veth', 'peer', 'name', 'vB']));
    sh(inNs([ip, 'link', 'set', 'vA', 'up']));
    sh(inNs([ip, 'link', 'set', 'vB', 'up']));
    // Keep the kernel quiet on the veth pair (no IPv6 autoconf, no router solicitations).
    for (const dev of ['vA', 'vB'])
      sh(inNs(['sysctl', '-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`]));

    // The receiver: a pipe from inside the namespace back to us.
    const rx = start(ip, inNs([process.execPath, '-e', RECEIVER]), logFile, true);
    procs.push(rx);
    const receiver = rx.child;
    let lastMs = nowMs();
    const gotPort = new Promise<number>((resolve, reject) => {
      receiver.once('exit', () => reject(new Error('fprobe receiver exited early')));
      const lines = createInterface({ input: receiver.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        const v = JSON.parse(line) as number | [number, string, number, string];
        if (typeof v === 'number') resolve(v);
        else {
          lastMs = nowMs();
          datagrams.push({
            receivedMs: v[0],
            address: v[1],
            port: v[2],
            bytes: new Uint8Array(Buffer.from(v[3], 'hex')),
          });
        }
      });
    });
    port = await Promise.race([
      gotPort,
      deadline(10_000).then(() => {
        throw new Error('fprobe receiver did not start');
      }),
    ]);

    const common = ['-i', 'vB', '-p', '-n', String(o.version), '-q', '10000'];
    // Idle and active timeouts far longer than the replay: on a loaded machine tcpreplay's
    // packets can arrive seconds late, and a flow split by a timeout would be exported
    // twice. SIGTERM flushes every flow at the end instead.
    const timers = ['-s', '1', '-d', '10', '-e', '60', '-g', '1'];
    const target = `127.0.0.1:${port}`;
    const instances: string[][] = [
      [...common, '-l', `2:${file}-${process.pid}-a`, ...timers, '-f', 'not vlan', target],
    ];
    if (o.vlanInstance)
      // From 127.0.0.2, so the collector sees two exporters, each with its own sequence.
      instances.push([
        ...common,
        '-l',
        `2:${file}-${process.pid}-b`,
        ...timers,
        '-K',
        '18',
        '-f',
        'vlan',
        `${target}/127.0.0.2`,
      ]);
    for (const args of instances) procs.push(start(ip, inNs([fprobe, ...args]), logFile));
    // fprobe opens its capture asynchronously: give it a moment before replaying.
    await sleep(700);
    replayFrom = nowMs();
    await runToExit(
      'tcpreplay',
      ip,
      inNs([
        tcpreplay,
        '-q',
        '-i',
        'vA',
        ...(o.pps !== undefined ? ['--pps', String(o.pps)] : []),
        o.pcap,
      ]),
      join(o.dir, `${file}.tcpreplay.log`),
      o.timeoutMs ?? 30_000,
    );
    replayTo = nowMs();
    // Let fprobe drain what the kernel still holds for its capture, then SIGTERM flushes
    // the cache (fprobe takes about 5 s to finish after SIGTERM).
    await sleep(1500);
    await Promise.all(procs.slice(1).map((p) => p.stop('SIGTERM', 10_000)));
    const quietSince = nowMs();
    while (nowMs() - Math.max(lastMs, quietSince) < 300 && nowMs() - quietSince < 3000)
      await sleep(25);
  } finally {
    for (const p of procs.reverse()) await p.stop('SIGTERM');
    try {
      sh(['netns', 'del', ns]);
    } catch {
      // never created
    }
    namespaces.delete(ns);
    nsGuard.kill('SIGKILL');
  }
  const collector = { address: '127.0.0.1', port };
  const pcap = writeDatagramsPcap(join(o.dir, `${file}.export.pcap`), datagrams, collector);
  return {
    name: `fprobe v${o.version}`,
    datagrams,
    collector,
    pcap,
    logFile,
    replayed: { fromMs: replayFrom, toMs: replayTo },
  };
}
