// Test-only: a real `sluice collect` on the shared test Elasticsearch (optionally with a
// real Prometheus scraping it, as in the compose stack), filled with the shared export
// captures, for the tests of the dashboards and the Kibana objects.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import {
  elasticsearchForTests,
  freePort,
  needServer,
  PCAPS_DIR,
  type PrometheusServer,
  startPrometheus,
  waitFor,
} from '@sluice/testkit';
import pino from 'pino';
import { demoCapture, demoFlows } from '../../../deploy/demo/traffic.js';
import { Collector } from '../../src/collect/collector.js';
import { resolveConfig, validateConfig } from '../../src/config/load.js';
import { FlowDecoder } from '../../src/flow/decoder.js';
import { datagramsFromCaptures } from '../../src/ingest/capture-source.js';
import { runExportCli } from '../export-cli.test-helpers.js';

const NF = join(PCAPS_DIR, 'akvorado', 'netflow');
const SF = join(PCAPS_DIR, 'akvorado', 'sflow');

/** Captures sent, each from its own loopback address (its own exporter). */
export const EXPORTERS: readonly [string, string[]][] = [
  ['127.0.0.2', [join(NF, 'template.pcap'), join(NF, 'data.pcap')]],
  ['127.0.0.3', [join(NF, 'nfv5.pcap')]],
  ['127.0.0.4', [join(NF, 'ipfixprobe-templates.pcap'), join(NF, 'ipfixprobe-data.pcap')]],
  ['127.0.0.5', [join(SF, 'data-1140.pcap'), join(SF, 'data-encap-vxlan.pcap')]],
  ['127.0.0.6', [join(NF, 'options-template.pcap'), join(NF, 'options-data.pcap')]],
];
/** Sends what a collector counts as trouble: garbage, data without its template. */
const TROUBLED_EXPORTER = '127.0.0.7';
/** No export format starts like this. */
const GARBAGE = Uint8Array.from([0x00, 0x63, 0x00, 0x01]);
/** Outside the allow-list: every datagram rejected. */
const REFUSED_EXPORTER = '127.0.0.9';

export const API_TOKEN = 'dashboards-test-token-0123456789';

/** The number of documents the in-process decoder makes of the same datagrams. */
function expectedDocuments(): number {
  let n = 0;
  for (const [exporter, files] of EXPORTERS) {
    const d = new FlowDecoder();
    for (const g of datagramsFromCaptures(files)) n += d.decode({ ...g, exporter }).records.length;
  }
  return n;
}

async function sendFrom(address: string, port: number, datagrams: Iterable<Uint8Array>) {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address, port: 0 }, () => r()));
  for (const bytes of datagrams) {
    await new Promise<void>((r, j) => s.send(bytes, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    // Paced a little: templates must land before their data in journal order.
    await new Promise((r) => setTimeout(r, 5));
  }
  s.close();
}

export interface FilledCollector {
  collector: Collector;
  apiUrl: string;
  client: Client;
  dataStream: string;
  prometheus: PrometheusServer | undefined;
  documents: number;
  /** Range of `@timestamp` of the flow documents, ms (to exclusive). */
  range: { from: number; to: number };
  /**
   * Sends one more (undecodable) datagram: a decode worker reports its counts, such as
   * held data that expired as template misses, with the next datagram it decodes.
   */
  nudge(): Promise<void>;
  /** The demo traffic's flows, exported by `sluice export` from 127.0.0.1, when asked for. */
  demo: { flows: number; range: { from: number; to: number } } | undefined;
}

/** `sluice export` of the compose stack's demo capture to the collector (NetFlow v9). */
async function exportDemo(dir: string, port: number): Promise<void> {
  const pcap = join(dir, 'demo.pcap');
  writeFileSync(pcap, demoCapture());
  const run = await runExportCli(
    ['--pcap', pcap, '--to', `127.0.0.1:${port},version=9`, '--stats-interval', '0'],
    { timeoutMs: 120_000 },
  );
  if (run.code !== 0) throw new Error(`sluice export failed (${run.code}): ${run.stderr}`);
}

/**
 * Starts Elasticsearch (shared), optionally Prometheus, and a collector with a query
 * token; sends the captures; waits until every document is indexed. Undefined when a
 * server is unavailable (the test is then skipped, or fails under CI).
 */
export async function startFilledCollector(
  t: TestContext,
  opts: { prometheusJob?: string; dataStream?: string; demo?: boolean } = {},
): Promise<FilledCollector | undefined> {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return undefined;
  const client = new Client({ node: es.url });
  const dataStream = opts.dataStream ?? `logs-netflow.sluicedash${process.pid}-default`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dash-'));
  t.after(async () => {
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const httpPort = await freePort();
  let prometheus: PrometheusServer | undefined;
  if (opts.prometheusJob !== undefined) {
    const job = opts.prometheusJob;
    prometheus = await needServer(t, () =>
      startPrometheus({ targets: [{ job, target: `127.0.0.1:${httpPort}` }] }),
    );
    if (!prometheus) return undefined;
    const p = prometheus;
    t.after(() => p.stop());
  }
  const collector = await Collector.start(
    resolveConfig(
      validateConfig({
        listen: [{ port: 0, address: '127.0.0.1' }],
        allow: ['127.0.0.0/29'],
        data_dir: dir,
        workers: 1,
        http: { listen: `127.0.0.1:${httpPort}`, tokens: [API_TOKEN] },
        elasticsearch: { url: es.url, data_stream: dataStream, bulk_interval: 200 },
        journal: { fsync: 'never' },
        // No room to hold data before its template: such data is a template miss at once.
        limits: { max_pending_bytes_per_exporter: 1 },
        ...(prometheus ? { query: { prometheus_url: prometheus.url } } : {}),
      }),
    ),
    pino({ level: 'silent' }),
  );
  t.after(() => collector.stop());
  const port = collector.ports[0] as number;
  // Trouble first: garbage, and data whose template never comes.
  const data = [...datagramsFromCaptures([join(NF, 'data.pcap')])].map((g) => g.bytes);
  await sendFrom(TROUBLED_EXPORTER, port, [GARBAGE, ...data]);
  await sendFrom(
    REFUSED_EXPORTER,
    port,
    [...datagramsFromCaptures([join(NF, 'nfv5.pcap')])].map((g) => g.bytes),
  );
  for (const [address, files] of EXPORTERS) {
    await sendFrom(
      address,
      port,
      [...datagramsFromCaptures(files)].map((g) => g.bytes),
    );
  }
  const demoSpecs = opts.demo === true ? demoFlows() : [];
  if (opts.demo === true) await exportDemo(dir, port);
  const want = expectedDocuments() + demoSpecs.length;
  await waitFor(
    async () => {
      await client.indices.refresh({ index: dataStream }, { ignore: [404] });
      const c = await client.count({ index: dataStream }, { ignore: [404] });
      return (c.count ?? 0) >= want ? true : undefined;
    },
    { what: `${want} documents in ${dataStream}`, timeoutMs: 180_000, intervalMs: 500 },
  );
  const r = await client.search({
    index: dataStream,
    size: 0,
    query: { terms: { 'netflow.type': ['netflow_flow', 'sflow_flow'] } },
    aggs: { min: { min: { field: '@timestamp' } }, max: { max: { field: '@timestamp' } } },
  });
  const aggs = r.aggregations as { min: { value: number }; max: { value: number } };
  return {
    collector,
    apiUrl: collector.apiUrl ?? `http://127.0.0.1:${httpPort}`,
    client,
    dataStream,
    prometheus,
    nudge: () => sendFrom(TROUBLED_EXPORTER, port, [GARBAGE]),
    documents: want,
    range: { from: aggs.min.value, to: aggs.max.value + 1 },
    demo:
      demoSpecs.length === 0
        ? undefined
        : {
            flows: demoSpecs.length,
            range: {
              from: Math.min(...demoSpecs.map((f) => f.startMs)) - 3_600_000,
              to: Math.max(...demoSpecs.map((f) => f.startMs)) + 3_600_000,
            },
          },
  };
}

/** POST /api/v1/query with the token. */
export async function apiQuery(
  apiUrl: string,
  body: unknown,
): Promise<{ status: number; json: { frames?: ApiFrame[]; error?: string } }> {
  const res = await fetch(`${apiUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { frames?: ApiFrame[] } };
}

export interface ApiFrame {
  name?: string;
  meta?: { total?: number };
  fields: { name: string; type: string; labels?: Record<string, string>; values: unknown[] }[];
}
