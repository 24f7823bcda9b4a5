// `npm run bench:export`: packets per CPU-second of `sluice export` next to softflowd's,
// reading the same large capture and exporting NetFlow v9 over UDP, in the same run. A
// benchmark, not a test: it prints figures and judges nothing.
//
// Both exporters run as child processes pinned to CPU 0, one after the other, REPS times
// each (alternating); this process receives their datagrams on CPU 1. CPU time of a child
// = utime + stime of everything it ran, read from the cutime/cstime of a `sh` that waited
// for it (/proc/PID/stat, so nothing is lost when the child exits). Sluice also reports
// the CPU time of the export itself (process.cpuUsage around the run, without node's
// start-up and TypeScript loading), which is the fair figure for a long-running exporter.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowDecoder } from '../../collector/src/flow/decoder.js';
import { benchTraffic } from './traffic.js';

const PACKETS = Number(process.env.BENCH_PACKETS ?? '1000000');
const REPS = Number(process.env.BENCH_REPS ?? '3');
const CPU_PROF = process.env.BENCH_CPU_PROF;
const log = (s: string) => process.stderr.write(`${s}\n`);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Run {
  /** utime + stime of the whole child process, s. */
  processCpuS: number;
  /** Sluice only: CPU of the export run itself (start-up left out), s. */
  exportCpuS: number | undefined;
  wallS: number;
  /** What arrived at the receiver. */
  datagrams: number;
  exportBytes: number;
  flows: number;
  flowPackets: number;
  flowBytes: number;
  /** The exporter's own report (stdout). */
  report: string;
}

/** Children still running, killed when this process exits. */
const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

function runPinned(command: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    // sh waits for the command, then prints its own stat: cutime/cstime hold the child's CPU.
    const child = spawn('taskset', ['-c', '0', 'sh', '-c', `${command}; cat /proc/$$/stat`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid) live.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (child.pid) live.delete(child.pid);
      resolve({ stdout, stderr, code: code ?? -1 });
    });
  });
}

/** cutime + cstime (fields 16, 17) of the last line, a /proc/PID/stat. */
function childrenCpuS(stdout: string): number {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): field N is fields[N - 3].
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

async function receive(
  run: (port: number) => Promise<{ stdout: string; stderr: string; code: number }>,
): Promise<Omit<Run, 'exportCpuS'> & { stdout: string }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const got: Uint8Array[] = [];
  let last = Date.now();
  socket.on('message', (m) => {
    got.push(new Uint8Array(m));
    last = Date.now();
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const t0 = performance.now();
  const res = await run(socket.address().port);
  const wallS = (performance.now() - t0) / 1000;
  while (Date.now() - last < 300) await new Promise((r) => setTimeout(r, 50));
  socket.close();
  if (res.code !== 0) throw new Error(`exit code ${res.code}: ${res.stderr.slice(-2000)}`);
  const decoder = new FlowDecoder();
  let flows = 0;
  let flowPackets = 0;
  let flowBytes = 0;
  let exportBytes = 0;
  for (const bytes of got) {
    exportBytes += bytes.length;
    for (const r of decoder.decode({ bytes, exporter: '127.0.0.1', receivedMs: Date.now() })
      .records) {
      if (r.kind !== 'flow') continue;
      flows += 1;
      flowPackets += r.packets ?? 0;
      flowBytes += r.bytes ?? 0;
    }
  }
  return {
    processCpuS: childrenCpuS(res.stdout),
    wallS,
    datagrams: got.length,
    exportBytes,
    flows,
    flowPackets,
    flowBytes,
    report: res.stderr,
    stdout: res.stdout,
  };
}

async function runSluice(file: string): Promise<Run> {
  const child = fileURLToPath(new URL('./sluice-child.ts', import.meta.url));
  const prof = CPU_PROF ? `--cpu-prof --cpu-prof-dir=${q(CPU_PROF)} ` : '';
  const r = await receive((port) =>
    runPinned(
      `${q(process.execPath)} ${prof}--import tsx ${q(child)} ${q(file)} ${port} </dev/null`,
    ),
  );
  const json = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!json) throw new Error(`no report from sluice-child: ${r.stdout} ${r.report}`);
  const rep = JSON.parse(json) as { cpuMs: number };
  return { ...r, exportCpuS: rep.cpuMs / 1000, report: json };
}

async function runSoftflowd(bin: string, file: string, dir: string): Promise<Run> {
  const r = await receive((port) =>
    runPinned(
      `${q(bin)} -r ${q(file)} -a -d -c none -p ${q(join(dir, 'sf.pid'))} -v 9 -A milli -6 -T vlan -m 65536 -n 127.0.0.1:${port} >${q(join(dir, 'sf.log'))} 2>&1`,
    ),
  );
  const out = readFileSync(join(dir, 'sf.log'), 'utf8');
  const m = /Flows exported: .*/.exec(out);
  return { ...r, exportCpuS: undefined, report: m?.[0] ?? out.slice(-300) };
}

/** The Debian package version (softflowd prints its own only when it runs). */
function softflowdVersion(): string {
  try {
    return `Debian ${execFileSync('dpkg-query', ['-W', '-f', '$' + '{Version}', 'softflowd'], { encoding: 'utf8' })}`;
  } catch {
    return 'version unknown';
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const si = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0] ?? []), rule, ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const softflowd = ['/usr/sbin/softflowd', '/usr/bin/softflowd', '/usr/local/sbin/softflowd'].find(
    (p) => {
      try {
        execFileSync(p, ['-h'], { stdio: 'ignore' });
        return true;
      } catch (e) {
        // softflowd -h exits 0 or 1 after printing its usage: it exists either way.
        return (e as NodeJS.ErrnoException).code !== 'ENOENT';
      }
    },
  );
  const t = benchTraffic(PACKETS, log);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-export-'));
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  const header = [
    'Sluice export benchmark',
    `date        ${new Date().toISOString()}`,
    `cpu         ${cpuModel ?? cpus()[0]?.model} (${cpus().length} CPUs), load avg ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `kernel      Linux ${release()}`,
    `node        ${process.version}; peer: ${softflowd ? `${softflowd} (${softflowdVersion()})` : 'softflowd not installed (apt-get install -y softflowd)'}`,
    `capture     ${t.frames} packets, ${t.flows} flows, ${(t.fileBytes / 2 ** 20).toFixed(1)} MiB pcap (${t.cached ? 'cached' : 'generated'}: ${t.file})`,
    `method      NetFlow v9 to 127.0.0.1 over UDP, both on CPU 0, ${REPS} runs each alternating, median`,
  ];
  log(`${t.frames} packets, ${t.flows} flows; ${REPS} runs of each`);
  const sluice: Run[] = [];
  const peer: Run[] = [];
  try {
    for (let i = 0; i < REPS; i++) {
      sluice.push(await runSluice(t.file));
      log(`  sluice run ${i + 1}: ${sluice.at(-1)?.report}`);
      if (softflowd) {
        peer.push(await runSoftflowd(softflowd, t.file, dir));
        log(`  softflowd run ${i + 1}: ${peer.at(-1)?.report}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: string[][] = [
    [
      'exporter',
      'CPU s',
      'pkt/CPU-s',
      'process CPU s',
      'pkt/CPU-s',
      'wall s',
      'flows rcvd',
      'pkts in flows',
      'datagrams',
      'export B',
      'export/observed',
    ],
  ];
  const summary = (name: string, runs: Run[]) => {
    const exportCpu =
      runs[0]?.exportCpuS === undefined ? undefined : median(runs.map((r) => r.exportCpuS ?? 0));
    const procCpu = median(runs.map((r) => r.processCpuS));
    const last = runs.at(-1) as Run;
    const cpu = exportCpu ?? procCpu;
    rows.push([
      name,
      cpu.toFixed(2),
      si(t.frames / cpu),
      procCpu.toFixed(2),
      si(t.frames / procCpu),
      median(runs.map((r) => r.wallS)).toFixed(2),
      String(last.flows),
      String(last.flowPackets),
      String(last.datagrams),
      String(last.exportBytes),
      `${((100 * last.exportBytes) / t.frameBytes).toFixed(2)}%`,
    ]);
    return { cpu, procCpu };
  };
  const s = summary('sluice export', sluice);
  const p = peer.length > 0 ? summary('softflowd', peer) : undefined;
  const lines = [
    '',
    table(rows),
    '',
    `expected    ${t.flows} flows, ${t.packets} packets, ${t.frameBytes} bytes observed (frames)`,
    'CPU s       Sluice: the export run (process.cpuUsage); softflowd: its whole process',
    'process     whole child process from /proc (Sluice with node start-up and TypeScript loading)',
  ];
  if (p) {
    lines.push(
      `ratio       Sluice / softflowd packets per CPU-second: ${(p.cpu / s.cpu).toFixed(2)}x (export run), ${(p.procCpu / s.procCpu).toFixed(2)}x (whole process)`,
    );
  }
  process.stdout.write(`${header.join('\n')}\n${lines.join('\n')}\n`);
}

await main();
