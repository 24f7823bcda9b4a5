// `npm run bench:ingest`: `sluice collect` end to end, UDP in, Elasticsearch out, next to
// Elasticsearch's own ceiling on the same documents, in one run. A benchmark, not a test:
// it prints figures and judges nothing (the targets are printed beside them).
//
// 1. Elasticsearch: SLUICE_TEST_ES_URL when set, otherwise the testkit's node (single
//    node, 1 GiB heap), stopped at the end.
// 2. The stream: --records flow records in NetFlow v9 and IPFIX datagrams of 30 records
//    (stream.ts), from two exporters on loopback.
// 3. The ceiling (ceiling.ts): the same documents bulk-loaded directly, --concurrency
//    requests in flight, after an unmeasured warm-up; once before the collector's runs
//    and once after them, the higher of the two taken.
// 4. Per rate (--rates, records/s or `full`): a fresh collector child process and data
//    stream; the datagrams sent at that rate; then wait until every datagram is accounted
//    for (accepted by the collector or dropped by the kernel, from its /metrics and
//    /proc/net/udp) and every accepted record is searchable (the data stream's count).
//    CPU is the collector's utime + stime from /proc over that window (all threads), peak
//    RSS its VmHWM. Data streams are not deleted: this Elasticsearch build lacks the
//    _data_stream API; each run writes a stream of its own.
import { cpus, loadavg, release } from 'node:os';
import { parseArgs } from 'node:util';
import type { Client } from '@elastic/elasticsearch';
import { startElasticsearch } from '@sluice/testkit';
import { createElasticsearchClient } from '../../collector/src/sink/elasticsearch/client.js';
import { installCleanup } from '../decode/children.js';
import { bulkBodies, type CeilingResult, measureCeiling } from './ceiling.js';
import {
  BIN_NODE_FLAGS,
  type CollectorBuild,
  compileCollector,
  freshestBuild,
  startCollector,
} from './collector-child.js';
import { cpuSeconds, groupCpuSeconds, resetPeakRss, statusBytes, udpDrops } from './proc.js';
import { raiseRmemMax, readRmemMax } from './rmem.js';
import { send } from './sender.js';
import { buildStream, WARM_UP_EXPORTERS } from './stream.js';

installCleanup();

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '300000' },
    rates: { type: 'string', default: '10000,50000,full' },
    rate: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    'ceiling-records': { type: 'string' },
    build: { type: 'string' },
    'node-flags': { type: 'string' },
    'rmem-max': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(
    'npm run bench:ingest -- [--records N] [--rates R1,R2,...|--rate R] [--concurrency C] [--build dist|source]\n' +
      '  --records      flow records sent per run (default 300000; 30 per datagram)\n' +
      '  --rates        records/s per run, or full (default 10000,50000,full); --rate R: one run\n' +
      '  --concurrency  bulk requests in flight for the ceiling (default 4)\n' +
      '  --ceiling-records  documents bulk-loaded for the ceiling (default min(records, 600000))\n' +
      '  --build        dist (collector/bin/sluice.js), compiled (tsc into bench/ingest/.cache)\n' +
      '                 or source (tsx); default dist when it is newer than every source file,\n' +
      '                 else compiled\n' +
      '  --node-flags   node flags for the collector, space-separated (e.g. --max-old-space-size=192)\n' +
      '  --rmem-max B   set net.core.rmem_max to B bytes for the run (root; put back at the end),\n' +
      "                 as a deployment following the collector's receive-buffer warning has it\n" +
      '                 (e.g. 33554432: the 32 MiB the collector asks for)\n' +
      'SLUICE_TEST_ES_URL=http://... uses that Elasticsearch instead of starting one.\n',
  );
  process.exit(0);
}

const RECORDS = Number(args.records);
const RATES: (number | undefined)[] = (args.rate ?? args.rates)
  .split(',')
  .map((r) => (r.trim() === 'full' ? undefined : Number(r)));
const CONCURRENCY = Number(args.concurrency);
const CEILING_RECORDS = Number(args['ceiling-records'] ?? Math.min(RECORDS, 600_000));
const BUILD: CollectorBuild =
  args.build === 'dist' || args.build === 'compiled' || args.build === 'source'
    ? args.build
    : freshestBuild();
function rmemArg(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 4096) {
    process.stderr.write(`--rmem-max: ${v} is not a byte count (an integer of at least 4096)\n`);
    process.exit(2);
  }
  return n;
}
const RMEM_MAX = rmemArg(args['rmem-max']);
const RMEM_BEFORE = RMEM_MAX === undefined ? undefined : raiseRmemMax(RMEM_MAX);
const NODE_FLAGS = (args['node-flags'] ?? '').split(' ').filter((f) => f !== '');
const RECORDS_PER_PACKET = 30;
const STALL_MS = 180_000;
const IDLE_MS = 3000;
/** The collector's warm-up is sent at most this fast (it must not lose datagrams). */
const WARM_UP_RATE = 20_000;
const PREFIX = 'logs-netflow.benchingest';

const log = (s: string) => process.stderr.write(`${s}\n`);
const k = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process group of the Elasticsearch node this benchmark started, if it did. */
let esGroup: number | undefined;

/** Elasticsearch's CPU seconds so far (all its processes), NaN for an external node. */
function esCpu(): number {
  return esGroup === undefined ? Number.NaN : groupCpuSeconds(esGroup);
}

async function elasticsearch(): Promise<{
  url: string;
  version: string;
  processGroup?: number | undefined;
  stop: () => Promise<void>;
}> {
  const external = process.env.SLUICE_TEST_ES_URL;
  if (external)
    return { url: external.replace(/\/+$/, ''), version: 'external', stop: async () => {} };
  const t0 = Date.now();
  const es = await startElasticsearch();
  log(
    `Elasticsearch ${es.version} at ${es.url}, started in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return es;
}

async function countOf(client: Client, dataStream: string): Promise<number> {
  const r = await client.count({ index: dataStream }, { ignore: [404] }).catch(() => undefined);
  return r?.count ?? 0;
}

async function dropDataStream(client: Client, name: string): Promise<void> {
  await client.indices.deleteDataStream({ name }).catch(() => {});
}

/** A ceiling measurement with Elasticsearch's CPU over it. */
type CeilingStats = CeilingResult & { esCpuPerMillion: number; esShare: number };

interface RunResult {
  label: string;
  rate: number | undefined;
  sentRecords: number;
  sendSeconds: number;
  sendErrors: number;
  /** Records indexed (the data stream's count). */
  indexed: number;
  /** Send start to the last record indexed, seconds. */
  seconds: number;
  /** Last send to the last record indexed. */
  drainSeconds: number;
  kernelDrops: number;
  rejected: number;
  cpuSeconds: number;
  /** Elasticsearch's CPU over the run (NaN for an external node). */
  esCpuSeconds: number;
  idleCpuPerSecond: number;
  peakRss: number;
  /** Peak RSS from start-up through the warm-up; NaN when the run's peak could not be kept apart. */
  warmPeakRss: number;
  timedOut: boolean;
}

async function run(
  client: Client,
  esUrl: string,
  stream: ReturnType<typeof buildStream>,
  rate: number | undefined,
  n: number,
): Promise<RunResult> {
  const label = rate === undefined ? 'full speed' : `${k(rate)} rec/s`;
  const dataStream = `${PREFIX}-run${n}`;
  await dropDataStream(client, dataStream);
  const c = await startCollector({
    elasticsearchUrl: esUrl,
    dataStream,
    build: BUILD,
    nodeFlags: NODE_FLAGS,
  });
  try {
    log(`${label}: collector pid ${c.pid} (${BUILD}), UDP ${c.udpPort}; warming up ...`);
    // What the collector spends doing nothing (timers, metrics), to read CPU figures by.
    const idle0 = cpuSeconds(c.pid);
    await sleep(IDLE_MS);
    const idleCpuPerSecond = (cpuSeconds(c.pid) - idle0) / (IDLE_MS / 1000);
    // Warmed up like Elasticsearch before its ceiling, unmeasured: a tenth of the records,
    // from two exporters of their own, all indexed before the clock starts. Why: a fresh
    // process spends its first second compiling its hot paths (about 0.5 CPU-s here), a
    // cost of starting, not of indexing.
    const warm = buildStream(Math.max(2, Math.ceil(stream.length / 10)), WARM_UP_EXPORTERS);
    await send(warm, c.udpPort, Math.min(rate ?? WARM_UP_RATE, WARM_UP_RATE));
    const warmRecords = warm.length * RECORDS_PER_PACKET;
    const warmDeadline = performance.now() + STALL_MS;
    let base = await countOf(client, dataStream);
    while (base < warmRecords && performance.now() < warmDeadline) {
      await sleep(500);
      base = await countOf(client, dataStream);
    }
    const accepted0 = await c.metric('sluice_datagrams_accepted_total');
    const rejected0 = await c.metric('sluice_datagrams_rejected_total');
    // The run's peak RSS is its own: the start-up and warm-up peak is printed apart.
    const warmPeakRss = statusBytes(c.pid, 'VmHWM');
    const peakReset = resetPeakRss(c.pid);
    log(
      `${label}: warmed up with ${base} records (not measured; peak RSS so far ${mib(warmPeakRss)}); sending ...`,
    );
    const drops0 = await udpDrops(c.udpPort);
    const cpu0 = cpuSeconds(c.pid);
    const esCpu0 = esCpu();
    const t0 = performance.now();
    const sent = await send(stream, c.udpPort, rate);
    const tSent = performance.now();
    log(
      `${label}: sent ${sent.records} records in ${sent.seconds.toFixed(1)} s; waiting for Elasticsearch ...`,
    );
    // Cheap polling, so the measurement does not load what it measures: the data stream's
    // count every 0.5 s (no forced refresh: Elasticsearch's own 1 s refresh, what a user
    // sees), the collector's /metrics (about 15 ms of its CPU per scrape) every 2 s.
    let last = -1;
    let lastChange = performance.now();
    let timedOut = false;
    let tDone = performance.now();
    let accounted = false;
    let accepted = 0;
    for (let poll = 0; ; poll++) {
      const indexed = (await countOf(client, dataStream)) - base;
      tDone = performance.now();
      if (!accounted && poll % 4 === 0) {
        const [a, rejected, drops] = await Promise.all([
          c.metric('sluice_datagrams_accepted_total'),
          c.metric('sluice_datagrams_rejected_total'),
          udpDrops(c.udpPort),
        ]);
        accepted = a - accepted0;
        accounted = accepted + (rejected - rejected0) + (drops - drops0) >= sent.datagrams;
      }
      if (accounted && indexed >= accepted * RECORDS_PER_PACKET) break;
      if (indexed !== last) {
        last = indexed;
        lastChange = tDone;
      } else if (tDone - lastChange > STALL_MS) {
        timedOut = true;
        break;
      }
      await sleep(500);
    }
    const cpu = cpuSeconds(c.pid) - cpu0;
    const esCpuSeconds = esCpu() - esCpu0;
    const peakRss = statusBytes(c.pid, 'VmHWM');
    const kernelDrops = (await udpDrops(c.udpPort)) - drops0;
    const rejected = (await c.metric('sluice_datagrams_rejected_total')) - rejected0;
    if (timedOut)
      log(`${label}: no progress for ${STALL_MS / 1000} s; collector output:\n${c.output()}`);
    await client.indices.refresh({ index: dataStream }, { ignore: [404] });
    const indexed = (await countOf(client, dataStream)) - base;
    return {
      label,
      rate,
      sentRecords: sent.records,
      sendSeconds: sent.seconds,
      sendErrors: sent.errors,
      indexed,
      seconds: (tDone - t0) / 1000,
      drainSeconds: (tDone - tSent) / 1000,
      kernelDrops,
      rejected,
      cpuSeconds: cpu,
      esCpuSeconds,
      idleCpuPerSecond,
      peakRss,
      warmPeakRss: peakReset ? warmPeakRss : Number.NaN,
      timedOut,
    };
  } finally {
    await c.stop();
    await dropDataStream(client, dataStream);
  }
}

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  if (BUILD === 'compiled') {
    log('compiling collector/src into bench/ingest/.cache/collector ...');
    compileCollector();
  }
  const packets = Math.ceil(RECORDS / RECORDS_PER_PACKET);
  const stream = buildStream(packets);
  const es = await elasticsearch();
  esGroup = es.processGroup;
  const client = createElasticsearchClient({ url: es.url, requestTimeoutMs: 120_000 });
  try {
    log(`ceiling: building the documents of ${k(CEILING_RECORDS)} records ...`);
    const ceilingStream = stream.slice(0, Math.ceil(CEILING_RECORDS / RECORDS_PER_PACKET));
    const { bodies, documents } = bulkBodies(ceilingStream);
    const want = ceilingStream.length * RECORDS_PER_PACKET;
    if (documents !== want) throw new Error(`the stream holds ${documents} records, not ${want}`);
    // A fresh node is slow at first (JIT, caches): warm it up, unmeasured.
    const warm = bodies.slice(0, Math.max(2, Math.ceil(bodies.length / 10)));
    log(`warm-up: ${warm.length} bulk requests, not measured ...`);
    await measureCeiling(client, `${PREFIX}-warmup`, warm, -1, CONCURRENCY);
    const ceilingRun = async (n: number): Promise<CeilingStats> => {
      log(
        `ceiling ${n}: bulk-loading ${documents} documents, ${CONCURRENCY} requests in flight ...`,
      );
      const esCpu0 = esCpu();
      const r = await measureCeiling(
        client,
        `${PREFIX}-ceiling${n}`,
        bodies,
        documents,
        CONCURRENCY,
      );
      const esSeconds = esCpu() - esCpu0;
      const esPerM = (esSeconds / documents) * 1e6;
      // Of the machine's CPU time over the load, the share Elasticsearch used.
      const esShare = esSeconds / (r.seconds * cpus().length);
      log(
        `ceiling ${n}: ${k(r.perSecond)} documents/s, Elasticsearch ${esPerM.toFixed(0)} CPU s / M, ${(esShare * 100).toFixed(0)}% of the CPUs`,
      );
      return { ...r, esCpuPerMillion: esPerM, esShare };
    };
    // Measured before the first run, between runs and after the last (on a shared
    // machine Elasticsearch's speed drifts by 2x within minutes); each run is compared
    // with the higher of the two measured beside it, the comparison that flatters
    // Elasticsearch, not Sluice.
    const ceilings: CeilingStats[] = [await ceilingRun(1)];
    const runs: RunResult[] = [];
    for (const [i, rate] of RATES.entries()) {
      await sleep(2000); // let Elasticsearch settle (merges) between runs
      runs.push(await run(client, es.url, stream, rate, i));
      await sleep(2000);
      ceilings.push(await ceilingRun(i + 2));
    }
    const ceilingOf = (i: number): number =>
      Math.max(
        (ceilings[i] as CeilingResult).perSecond,
        (ceilings[i + 1] as CeilingResult).perSecond,
      );
    const first = ceilings[0] as CeilingResult;

    const out: string[] = [];
    out.push('Sluice ingest benchmark: sluice collect, UDP to Elasticsearch');
    out.push(`date        ${new Date().toISOString()}`);
    out.push(
      `cpu         ${cpus()[0]?.model ?? '?'} (${cpus().length} CPUs), load avg ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const rmem = readRmemMax();
    out.push(
      `kernel      Linux ${release()}, net.core.rmem_max ${rmem === undefined ? '?' : mib(rmem)}${
        RMEM_BEFORE === undefined
          ? ''
          : ` (set by --rmem-max for this run; ${mib(RMEM_BEFORE)} before)`
      }`,
    );
    out.push(
      `node        ${process.version}; collector: ${
        {
          dist: 'collector/bin/sluice.js (collector/dist)',
          compiled: 'collector/src compiled now (tsc, its build settings) into bench/ingest/.cache',
          source: 'collector/src through tsx',
        }[BUILD]
      } with its node flags (${BIN_NODE_FLAGS.join(' ')}), default configuration${NODE_FLAGS.length > 0 ? `, node ${NODE_FLAGS.join(' ')}` : ''}`,
    );
    out.push(`elastic     Elasticsearch ${es.version} at ${es.url} (single node)`);
    out.push(
      `stream      ${RECORDS_PER_PACKET} records per datagram, NetFlow v9 and IPFIX alternating, 2 exporters, ${packets} datagrams, ${packets * RECORDS_PER_PACKET} records`,
    );
    out.push('');
    out.push(
      `Elasticsearch ceiling: ${first.documents} documents bulk-loaded directly, ${first.requests} requests, ${first.concurrency} in flight, ${(first.bodyBytes / first.documents).toFixed(0)} B per action + document, timed from the first request to all searchable (as the runs are), before, between and after the runs: ${ceilings.map((c) => `${k(c.perSecond)}/s (${c.seconds.toFixed(1)} s; last answer at ${c.ackSeconds.toFixed(1)} s; Elasticsearch ${c.esCpuPerMillion.toFixed(0)} CPU s / M, ${(c.esShare * 100).toFixed(0)}% of the CPUs)`).join(', ')}. A run's ceiling is the higher of the two beside it.`,
    );
    out.push('');
    out.push(
      table(
        [
          'run',
          'sent',
          'send s',
          'indexed',
          'rec/s indexed',
          'drain s',
          'loss',
          'kernel drops',
          'rejected',
          'CPU s',
          'CPU s / M rec',
          'ES CPU s / M',
          'CPUs busy',
          'idle CPU',
          'peak RSS',
          'warm-up RSS',
          'ceiling',
          'vs ceiling',
          'vs bound',
        ],
        runs.map((r, i) => [
          r.label + (r.timedOut ? ' (stalled)' : ''),
          String(r.sentRecords),
          r.sendSeconds.toFixed(1),
          String(r.indexed),
          k(r.indexed / r.seconds),
          r.drainSeconds.toFixed(1),
          String(r.sentRecords - r.indexed),
          String(r.kernelDrops),
          String(r.rejected),
          r.cpuSeconds.toFixed(1),
          ((r.cpuSeconds / Math.max(1, r.indexed)) * 1e6).toFixed(1),
          ((r.esCpuSeconds / Math.max(1, r.indexed)) * 1e6).toFixed(0),
          `${(((r.cpuSeconds + r.esCpuSeconds) / (r.seconds * cpus().length)) * 100).toFixed(0)}%`,
          `${(r.idleCpuPerSecond * 100).toFixed(1)}%`,
          mib(r.peakRss),
          Number.isNaN(r.warmPeakRss) ? 'in peak' : mib(r.warmPeakRss),
          k(ceilingOf(i)),
          `${((r.indexed / r.seconds / ceilingOf(i)) * 100).toFixed(0)}%`,
          `${((r.indexed / r.seconds / Math.min(r.rate ?? Number.POSITIVE_INFINITY, ceilingOf(i))) * 100).toFixed(0)}%`,
        ]),
      ),
    );
    out.push('');
    out.push(
      '  rec/s indexed = records indexed / (first send to last record searchable, polled every 0.5 s); drain = last send to that',
    );
    out.push(
      '  loss = sent - indexed (data stream count); kernel drops = datagrams (30 records each) dropped on the collector socket',
    );
    out.push(
      '  CPU = utime + stime of the collector process (all threads) over the run; idle CPU = the same, idle, over 3 s before it',
    );
    out.push(
      "  ES CPU = utime + stime of Elasticsearch's processes over the run (the ceiling's: over its load), per million records indexed",
    );
    out.push(
      '  CPUs busy = (collector CPU + Elasticsearch CPU) / (seconds x CPUs): below 100% the two left CPU time unused',
    );
    out.push(
      '  peak RSS = VmHWM of the collector process (a fresh one per run) over the run; warm-up RSS = its peak from start-up through the warm-up',
    );
    out.push('  vs bound = rec/s indexed / the lower of the send rate and the ceiling');
    out.push('');
    // The first target is read on every run that sends faster than Elasticsearch's ceiling
    // (so the collector, not the sender, could be the limit), paced and full speed alike.
    const above = runs
      .map((r, i) => ({ r, ceiling: ceilingOf(i) }))
      .filter(({ r, ceiling }) => (r.rate ?? Number.POSITIVE_INFINITY) >= ceiling);
    if (above.length > 0) {
      out.push(
        'target      within 10% of the ceiling with zero loss (runs sending faster than the ceiling):',
      );
      for (const { r, ceiling } of above) {
        const ratio = r.indexed / r.seconds / ceiling;
        const loss = r.sentRecords - r.indexed;
        const why = r.kernelDrops > 0 ? ` (${r.kernelDrops} datagrams dropped by the kernel)` : '';
        out.push(
          `              ${r.label}: ${(ratio * 100).toFixed(0)}% of the ceiling, loss ${loss}${why}: ${ratio >= 0.9 && loss === 0 ? 'met' : 'NOT met'}`,
        );
      }
    }
    const at50k = runs.find((r) => r.rate === 50_000);
    if (at50k) {
      out.push(
        `target      RSS under 300 MB at 50,000 records/s: peak ${mib(at50k.peakRss)} (${(at50k.peakRss / 1e6).toFixed(0)} MB): ${at50k.peakRss < 300e6 ? 'met' : 'NOT met'}; loss ${at50k.sentRecords - at50k.indexed}${Number.isNaN(at50k.warmPeakRss) ? ' (start-up and warm-up included)' : `; start-up and warm-up peaked at ${mib(at50k.warmPeakRss)}`}`,
      );
    }
    out.push(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await client.close();
    await es.stop();
  }
}

await main();
