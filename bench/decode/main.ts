// `npm run bench:decode`: Sluice's decoding speed on one core next to nfcapd's, on the
// same packets, in one run. A benchmark, not a test: it prints figures and judges nothing.
//
// (a) records/s: datagram -> normalized FlowRecord (FlowDecoder.decode)
// (b) records/s: the same plus Elasticsearch bulk lines (action + documentText: a string
//     per document, as `sluice decode` prints them), joined into bulk bodies
// (b') records/s: the same bulk bodies written as bytes into one buffer (writeDocument:
//     the collector's path)
// (c) bytes allocated per record and peak RSS (child process, see alloc.ts)
// (d) nfcapd records per CPU-second on the same packets (see nfcapd.ts), and the ratios.
//
// This process pins itself (all its threads, GC helpers included) to CPU 0, so its CPU
// time is one core's; nfcapd runs on CPU 1. (a) and (b') are measured where the collector
// does that work, in a worker thread with its decode workers' heap limits
// (collect/decode-limits.ts); (b), the strings of `sluice decode`, on this main thread
// with V8's defaults. Each figure is the median of REPS timed runs after a warm-up; rates
// are per CPU-second (process.cpuUsage), wall rate beside it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DECODE_WORKER_LIMITS } from '../../collector/src/collect/decode-limits.js';
import { FlowDecoder } from '../../collector/src/flow/decoder.js';
import { spawnThread } from '../../collector/src/threads/spawn.js';
import type { AllocResult } from './alloc.js';
import { type BenchCase, buildCase, type CaseName } from './cases.js';
import { exited, installCleanup, outputOf, spawnTracked } from './children.js';
import type { MeasureJob } from './measure-worker.js';
import { measureNfcapd, nfcapdVersion, type PeerResult } from './nfcapd.js';
import { checkCycle, measure, type Rate } from './sluice.js';

installCleanup();

const SECONDS = Number(process.env.BENCH_SECONDS ?? '1.25');
const REPS = 3;
const WARMUP_S = 0.5;
const PEER_BURSTS = 3;
const PEER_BURST_S = 1.5;
const PEER_PPS = 60_000;

const log = (s: string) => process.stderr.write(`${s}\n`);

function allowedCpus(): string {
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] ?? '?';
}

/** Pins every thread of this process to CPU 0 (threads started later inherit it). */
function pinSelf(): void {
  try {
    execFileSync('taskset', ['-a', '-c', '-p', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    log('warning: taskset failed; Sluice is not pinned to one core');
  }
}

function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m?.[1] ?? cpus()[0]?.model ?? 'unknown';
}

/** Is sFlow wired into FlowDecoder yet? Ask it with a real sFlow v5 datagram. */
function sflowWired(): boolean {
  try {
    const c = buildCase('sflow-capture');
    const decoder = new FlowDecoder();
    return c.datagrams.some((d) => decoder.decode(d).records.length > 0);
  } catch {
    return false;
  }
}

type Measured = ReturnType<typeof measure>;

/** Sluice's measurement of one case and mode in a decode worker's thread (measure-worker.ts). */
function measureInWorker(name: CaseName, mode: MeasureJob['mode']): Promise<Measured> {
  const job: MeasureJob = { name, mode, seconds: SECONDS, reps: REPS, warmupS: WARMUP_S };
  const w = spawnThread(import.meta.url, 'measure-worker', {
    resourceLimits: DECODE_WORKER_LIMITS,
    workerData: job,
  });
  return new Promise((resolve, reject) => {
    w.once('message', (m: Measured) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

async function allocFor(name: CaseName): Promise<AllocResult | string> {
  const script = fileURLToPath(new URL('./alloc.js', import.meta.url)).replace(/\.js$/, '.ts');
  const child = spawnTracked('taskset', [
    '-c',
    '0',
    process.execPath,
    '--expose-gc',
    '--import',
    import.meta.resolve('tsx'),
    script,
    name,
    '1',
  ]);
  const output = outputOf(child);
  const code = await exited(child);
  const line = output()
    .split('\n')
    .find((l) => l.startsWith('{"case"'));
  if (code !== 0 || !line) return `alloc child failed (${code}): ${output().slice(-500)}`;
  return JSON.parse(line) as AllocResult;
}

interface Row {
  c: BenchCase;
  perPacket: number;
  decode: { median: Rate; runs: Rate[] };
  document: { median: Rate; runs: Rate[]; bytesPerDoc: number };
  buffer: { median: Rate; runs: Rate[]; bytesPerDoc: number };
  recordsAt: number[];
  alloc?: AllocResult | string;
  peer?: PeerResult | string;
}

const M = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`);
const spread = (runs: Rate[]) => {
  const xs = runs.map((r) => r.perCpuS);
  const mid = [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 1;
  return `±${(((Math.max(...xs) - Math.min(...xs)) / 2 / mid) * 100).toFixed(0)}%`;
};
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? pad(c, widths[i] ?? 0) : lpad(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  pinSelf();
  const nfcapd = nfcapdVersion();
  const peerCpu = cpus().length > 1 ? '1' : '0';

  const facts = [
    `date        ${new Date().toISOString()}`,
    `cpu         ${cpuModel()} (${cpus().length} CPUs), load avg ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    `kernel      Linux ${release()}`,
    `node        ${process.version} (V8 ${process.versions.v8}), Sluice pinned to CPU ${allowedCpus()}`,
    `nfdump      ${nfcapd ? `${nfcapd}, nfcapd pinned to CPU ${peerCpu}` : 'not installed'}`,
    `method      ${REPS} runs x ${SECONDS}s after ${WARMUP_S}s warm-up, median; rates per CPU-second`,
    `            (a), (b'): in a worker thread with the decode workers' heap limits (young generation ${DECODE_WORKER_LIMITS.maxYoungGenerationSizeMb} MB); (b): main thread`,
  ];
  console.log('Sluice decode benchmark');
  console.log(facts.join('\n'));
  console.log('');

  const names: CaseName[] = ['v5', 'v9', 'ipfix', 'v9-capture'];
  const sflow = sflowWired();
  if (sflow) names.push('sflow-capture');

  const rows: Row[] = [];
  for (const name of names) {
    const c = buildCase(name);
    const check = checkCycle(c.datagrams);
    const issues = [...check.issues].map(([k, v]) => `${k} x${v}`).join(', ');
    if (issues) log(`note: ${c.label}: decoder reported ${issues}`);
    if (c.expectedPerCycle !== undefined && check.records !== c.expectedPerCycle) {
      log(`note: ${c.label}: ${check.records} records per cycle, ${c.expectedPerCycle} sent`);
    }
    log(`${c.label}: Sluice (a) decode ...`);
    const decode = await measureInWorker(name, 'decode');
    log(`${c.label}: Sluice (b) decode + bulk documents ...`);
    const document = measure('document', c.datagrams, SECONDS, REPS, WARMUP_S);
    log(`${c.label}: Sluice (b') decode + bulk body in one buffer ...`);
    const buffer = await measureInWorker(name, 'buffer');
    const dataPackets = check.recordsAt.filter((n) => n > 0).length;
    rows.push({
      c,
      perPacket: dataPackets ? check.records / dataPackets : 0,
      decode,
      document,
      buffer,
      recordsAt: check.recordsAt,
    });
  }
  for (const row of rows) {
    log(`${row.c.label}: allocation and RSS (child process) ...`);
    row.alloc = await allocFor(row.c.name);
  }
  for (const row of rows) {
    if (!nfcapd) {
      row.peer = 'nfcapd not installed';
      continue;
    }
    if (row.c.name === 'sflow-capture') {
      row.peer = 'nfcapd takes no sFlow';
      continue;
    }
    log(`${row.c.label}: nfcapd ...`);
    try {
      row.peer = await measureNfcapd(row.c.datagrams, row.recordsAt, {
        bursts: PEER_BURSTS,
        burstSeconds: PEER_BURST_S,
        pps: PEER_PPS,
        cpu: peerCpu,
      });
    } catch (err) {
      row.peer = `nfcapd failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  console.log('Sluice, one core (records per CPU-second, median of runs; wall rate in brackets)');
  console.log(
    table(
      [
        'case',
        'rec/pkt',
        '(a) decode',
        '',
        '(b) decode+bulk doc',
        '',
        "(b') bulk buffer",
        '',
        'doc B',
        '(c) alloc B/rec (a)',
        '(b)',
        "(b')",
        'peak RSS',
      ],
      rows.map((r) => {
        const a = typeof r.alloc === 'object' ? r.alloc : undefined;
        return [
          r.c.label,
          r.perPacket.toFixed(0),
          `${M(r.decode.median.perCpuS)} ${spread(r.decode.runs)}`,
          `[${M(r.decode.median.perWallS)}/s]`,
          `${M(r.document.median.perCpuS)} ${spread(r.document.runs)}`,
          `[${M(r.document.median.perWallS)}/s]`,
          `${M(r.buffer.median.perCpuS)} ${spread(r.buffer.runs)}`,
          `[${M(r.buffer.median.perWallS)}/s]`,
          r.document.bytesPerDoc.toFixed(0),
          a ? a.bytesPerRecord.decode.toFixed(0) : 'n/a',
          a ? a.bytesPerRecord.document.toFixed(0) : 'n/a',
          a ? a.bytesPerRecord.buffer.toFixed(0) : 'n/a',
          a ? `${(a.peakRssKiB / 1024).toFixed(0)} MiB` : 'n/a',
        ];
      }),
    ),
  );
  const base = rows.map((r) => r.alloc).find((a): a is AllocResult => typeof a === 'object');
  if (base) {
    console.log(
      `  peak RSS is the allocation child's, which runs one case; node + tsx + Sluice alone: ${(base.baseRssKiB / 1024).toFixed(0)} MiB`,
    );
  }
  for (const r of rows) {
    if (typeof r.alloc === 'string') console.log(`  ${r.c.label}: ${r.alloc}`);
  }
  console.log(sflow ? '' : 'sFlow: decoder not wired yet\n');

  console.log('nfcapd on the same packets, and Sluice / nfcapd (records per CPU-second)');
  console.log(
    table(
      [
        'case',
        'nfcapd rec/CPU-s',
        'stored/sent',
        'sent pkt/s',
        'CPU s per burst',
        'peak RSS',
        'ratio (a)',
        'ratio (b)',
        "ratio (b')",
      ],
      rows.map((r) => {
        const p = r.peer;
        if (typeof p !== 'object') return [r.c.label, p ?? 'n/a', '', '', '', '', '', '', ''];
        const lost = p.storedRecords < p.sentRecords || p.socketDrops > 0;
        return [
          r.c.label,
          M(p.recordsPerCpuS),
          `${p.storedRecords}/${p.sentRecords}${lost ? ` LOSS (${p.socketDrops} drops)` : ''}`,
          `${(p.sentPps / 1000).toFixed(0)}k${p.attempts > 1 ? ` (try ${p.attempts})` : ''}`,
          p.burstCpuS.map((s) => s.toFixed(2)).join(' '),
          `${(p.peakRssKiB / 1024).toFixed(0)} MiB`,
          `${(r.decode.median.perCpuS / p.recordsPerCpuS).toFixed(3)}x`,
          `${(r.document.median.perCpuS / p.recordsPerCpuS).toFixed(3)}x`,
          `${(r.buffer.median.perCpuS / p.recordsPerCpuS).toFixed(3)}x`,
        ];
      }),
    ),
  );
  if (!nfcapd) {
    console.log('  nfcapd is missing: apt-get install -y nfdump (Debian), then run again');
  }
  console.log(
    '  ratio = Sluice records per CPU-second on one core / nfcapd records per CPU-second; 1x = par',
  );
  console.log(
    `  nfcapd: ${PEER_BURSTS} bursts of ${PEER_BURST_S}s, a fresh nfcapd each; the rate halves (next try) after any loss`,
  );
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

await main();
