// `npm run bench:query`: latency of top-N and timeseries queries over 1M (or --docs N)
// stored flow records. A benchmark, not a test: it prints figures and judges nothing.
//
// 1. Elasticsearch: SLUICE_TEST_ES_URL when set, otherwise a node started here (the test
//    harness's: single node, 1 GiB heap, stopped at the end).
// 2. Load: synthetic records (bench/query/data.ts) as Sluice documents (toDocument) into a
//    data stream with Sluice's index template, through the sink's BulkIndexer; then a
//    refresh. Skipped with --reuse when the data stream already holds --docs documents.
// 3. Queries: each case runs through the query API's pure builders and frame converters
//    (the CLI's Elasticsearch path, collector/src/cli/query/client.ts): W warm-up runs,
//    then R timed ones. Each run moves the range by one second, so Elasticsearch's shard
//    request cache (which would answer a repeated identical aggregation from memory)
//    never serves a timed run; its filter and fielddata caches stay warm, as in use.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { startElasticsearch } from '@sluice/testkit';
import { elasticsearchBackend, QueryFailed } from '../../collector/src/cli/query/client.js';
import { formatCount } from '../../collector/src/cli/query/format.js';
import { serializeDocument, toDocument } from '../../collector/src/flow/document.js';
import type { QueryRequest } from '../../collector/src/query/es/types.js';
import { BulkIndexer } from '../../collector/src/sink/elasticsearch/bulk.js';
import { installIndexTemplate } from '../../collector/src/sink/elasticsearch/template.js';
import { DAY_MS, DAY_START_MS, prng, syntheticRecord } from './data.js';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    'data-stream': { type: 'string' },
    reuse: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(
    'npm run bench:query -- [--docs N] [--runs R] [--warmup W] [--data-stream NAME] [--reuse] [--keep]\n' +
      '  --docs       records to load (default 1000000; 10000000 for the large run)\n' +
      '  --runs       timed runs per query (default 30), after --warmup runs (default 3)\n' +
      '  --data-stream NAME  (default logs-netflow.sluicebench<docs>-default)\n' +
      '  --reuse      skip loading when the data stream already holds --docs documents\n' +
      '  --keep       leave the data stream (default: deleted at the end)\n' +
      'SLUICE_TEST_ES_URL=http://... uses that Elasticsearch instead of starting one.\n',
  );
  process.exit(0);
}

const DOCS = Number(args.docs);
const RUNS = Number(args.runs);
const WARMUP = Number(args.warmup);
const DATA_STREAM = args['data-stream'] ?? `logs-netflow.sluicebench${DOCS}-default`;
const log = (s: string) => process.stderr.write(`${s}\n`);

async function elasticsearch(): Promise<{ url: string; stop: () => Promise<void> }> {
  const external = process.env.SLUICE_TEST_ES_URL;
  if (external) return { url: external.replace(/\/+$/, ''), stop: async () => {} };
  const t0 = Date.now();
  const es = await startElasticsearch();
  log(
    `Elasticsearch ${es.version} started at ${es.url} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return es;
}

async function count(client: Client): Promise<number> {
  try {
    return (await client.count({ index: DATA_STREAM, ignore_unavailable: true })).count;
  } catch {
    return 0;
  }
}

async function load(client: Client): Promise<{ seconds: number; storeBytes: number }> {
  await installIndexTemplate(client, { dataStream: DATA_STREAM });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-query-'));
  const indexer = new BulkIndexer({
    client,
    dataStream: DATA_STREAM,
    flushCount: 5000,
    concurrency: 2,
    maxQueuedBytes: 64 * 1024 * 1024,
    deadLetter: { path: join(dir, 'dead-letter.ndjson'), fsync: false },
    requestTimeoutMs: 120_000,
  });
  const rand = prng(20240601);
  const t0 = Date.now();
  let lastLog = t0;
  for (let i = 0; i < DOCS; i++) {
    const source = serializeDocument(toDocument(syntheticRecord(i, DOCS, rand)));
    if (!indexer.add({ id: String(i), source, position: BigInt(i) })) {
      await indexer.waitForCapacity();
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      const s = (lastLog - t0) / 1000;
      log(
        `  loaded ${formatCount(indexer.stats().indexed)} of ${formatCount(DOCS)} (${formatCount(Math.round(indexer.stats().indexed / s))} docs/s)`,
      );
    }
  }
  await indexer.close();
  const stats = indexer.stats();
  if (stats.deadLettered > 0)
    log(`warning: ${stats.deadLettered} documents dead-lettered (see ${dir})`);
  else rmSync(dir, { recursive: true, force: true });
  await client.indices.refresh({ index: DATA_STREAM });
  const seconds = (Date.now() - t0) / 1000;
  return { seconds, storeBytes: await storeBytes(client) };
}

async function storeBytes(client: Client): Promise<number> {
  const s = await client.indices.stats({ index: DATA_STREAM, metric: ['store'] });
  return s._all.primaries?.store?.size_in_bytes ?? 0;
}

interface Case {
  name: string;
  /** The query over [from, to); `from` moves by a second per run. */
  make: (fromMs: number, toMs: number) => QueryRequest;
  /** Length of the range. */
  spanMs: number;
}

const H = 3_600_000;
const CASES: Case[] = [
  {
    name: 'topn source.ip by bytes, 24h',
    spanMs: DAY_MS - 60_000,
    make: (from, to) => ({ kind: 'topn', metric: 'bytes', fields: ['source.ip'], from, to }),
  },
  {
    name: "topn destination.port by flows, 24h, 'proto tcp'",
    spanMs: DAY_MS - 60_000,
    make: (from, to) => ({
      kind: 'topn',
      metric: 'flows',
      fields: ['destination.port'],
      filter: 'proto tcp',
      from,
      to,
    }),
  },
  {
    name: "topn observer.ip by packets, 24h, 'dst port in [80 443]'",
    spanMs: DAY_MS - 60_000,
    make: (from, to) => ({
      kind: 'topn',
      metric: 'packets',
      fields: ['observer.ip'],
      filter: 'dst port in [80 443]',
      from,
      to,
    }),
  },
  {
    name: "topn destination.ip by bytes, 1h, 'src net 10.0.0.0/24'",
    spanMs: H,
    make: (from, to) => ({
      kind: 'topn',
      metric: 'bytes',
      fields: ['destination.ip'],
      filter: 'src net 10.0.0.0/24',
      from,
      to,
    }),
  },
  {
    name: 'topn (source.ip, destination.port) by bytes, 1h',
    spanMs: H,
    make: (from, to) => ({
      kind: 'topn',
      metric: 'bytes',
      fields: ['source.ip', 'destination.port'],
      from,
      to,
    }),
  },
  {
    name: 'timeseries bytes/s, 24h, auto interval (5m)',
    spanMs: DAY_MS - 60_000,
    make: (from, to) => ({ kind: 'timeseries', metric: 'bytes', rate: true, from, to }),
  },
  {
    name: 'timeseries bytes by observer.ip (top 10), 24h, 5m',
    spanMs: DAY_MS - 60_000,
    make: (from, to) => ({
      kind: 'timeseries',
      metric: 'bytes',
      interval: '5m',
      groupBy: ['observer.ip'],
      from,
      to,
    }),
  },
  {
    name: "timeseries flows by destination.port (top 5), 6h, 1m, 'proto udp'",
    spanMs: 6 * H,
    make: (from, to) => ({
      kind: 'timeseries',
      metric: 'flows',
      interval: '1m',
      groupBy: ['destination.port'],
      top: 5,
      filter: 'proto udp',
      from,
      to,
    }),
  },
  {
    name: 'timeseries packets by (observer.ip, network.transport) (top 5), 1h, 1m',
    spanMs: H,
    make: (from, to) => ({
      kind: 'timeseries',
      metric: 'packets',
      interval: '1m',
      groupBy: ['observer.ip', 'network.transport'],
      top: 5,
      from,
      to,
    }),
  },
];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

async function main(): Promise<void> {
  const es = await elasticsearch();
  const client = new Client({ node: es.url, requestTimeout: 300_000 });
  try {
    const present = await count(client);
    let loadLine = '';
    if (args.reuse && present === DOCS) {
      log(`reusing ${DATA_STREAM}: ${formatCount(present)} documents`);
      loadLine = `load: reused ${formatCount(present)} documents already in ${DATA_STREAM}`;
    } else {
      if (present > 0) await client.indices.deleteDataStream({ name: DATA_STREAM }).catch(() => {});
      log(`loading ${formatCount(DOCS)} documents into ${DATA_STREAM} ...`);
      const l = await load(client);
      const n = await count(client);
      loadLine =
        `load: ${formatCount(n)} documents in ${l.seconds.toFixed(1)} s ` +
        `(${formatCount(Math.round(n / l.seconds))} docs/s, generate + serialize + bulk + refresh), ` +
        `store ${(l.storeBytes / 1e6).toFixed(0)} MB (${Math.round(l.storeBytes / Math.max(1, n))} B/doc)`;
      if (n !== DOCS) log(`warning: ${n} documents stored, ${DOCS} sent`);
    }
    log(loadLine);
    const backend = elasticsearchBackend({ client, dataStream: DATA_STREAM });
    const rows: string[][] = [];
    for (const c of CASES) {
      const times: number[] = [];
      let size = 0;
      let refused = '';
      for (let r = 0; r < WARMUP + RUNS && refused === ''; r++) {
        // Ranges end at the day's end; each run starts a second later (no request cache).
        const to = DAY_START_MS + DAY_MS - (WARMUP + RUNS - r) * 1000;
        const t0 = performance.now();
        try {
          const frames = await backend.run(c.make(to - c.spanMs, to));
          const ms = performance.now() - t0;
          if (r >= WARMUP) times.push(ms);
          const f = frames[0];
          size = (f?.fields.length ?? 0) * (f?.fields[0]?.values.length ?? 0);
        } catch (err) {
          // A query the API's limits refuse (e.g. too many distinct tuples at 10M) is a
          // result worth printing, not a reason to lose the load: report it and go on.
          if (!(err instanceof QueryFailed)) throw err;
          refused = err.message;
        }
      }
      if (refused !== '') {
        const row = [c.name, 'refused', '', '', refused];
        rows.push(row);
        log(`  ${row.join('  ')}`);
        continue;
      }
      times.sort((a, b) => a - b);
      const row = [
        c.name,
        percentile(times, 50).toFixed(1),
        percentile(times, 95).toFixed(1),
        (times.at(-1) ?? Number.NaN).toFixed(1),
        String(size),
      ];
      rows.push(row);
      log(`  ${row.join('  ')}`);
    }
    const header = ['query', 'p50 ms', 'p95 ms', 'max ms', 'cells'];
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
    );
    const line = (r: string[]) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join(' | ');
    const cpu = cpus()[0]?.model ?? 'unknown';
    process.stdout.write(
      `\nSluice query benchmark: ${formatCount(DOCS)} records over one day, ${RUNS} timed runs per query after ${WARMUP} warm-up\n` +
        `${loadLine}\n` +
        `machine: ${cpus().length} × ${cpu}; Elasticsearch ${es.url.startsWith('http://127.0.0.1') ? 'on this machine' : es.url}\n\n` +
        `| ${line(header)} |\n| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |\n` +
        rows.map((r) => `| ${line(r)} |`).join('\n') +
        '\n',
    );
  } finally {
    if (!args.keep) await client.indices.deleteDataStream({ name: DATA_STREAM }).catch(() => {});
    if (!args.keep) {
      await client.indices
        .deleteIndexTemplate({ name: DATA_STREAM.replace(/-default$/, '') })
        .catch(() => {});
    }
    await client.close();
    await es.stop();
  }
}

await main();
