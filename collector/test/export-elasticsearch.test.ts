// `sluice export` into Sluice's own collector and the real Elasticsearch: the CLI reads a
// generated pcap with known per-flow totals and exports NetFlow v5, v9 and IPFIX (three
// destinations of one run) to a running `sluice collect`; the documents that land in
// Elasticsearch must carry the generator's totals, flow by flow, for each format.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import {
  type ExpectedFlow,
  elasticsearchForTests,
  mixedFlows,
  needServer,
  waitFor,
  writeTraffic,
} from '@sluice/testkit';
import pino from 'pino';
import { Collector } from '../src/collect/collector.js';
import { resolveConfig, validateConfig } from '../src/config/load.js';
import { runExportCli } from './export-cli.test-helpers.js';

/** Half a second and a quarter ms past the second: the truncation to whole ms shows. */
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) + 500.25;
const IF_INDEX = 7;

type Version = 5 | 9 | 10;
const VERSIONS: readonly Version[] = [5, 9, 10];
const isIcmp = (p: number) => p === 1 || p === 58;

interface Doc {
  source?: { ip?: string; port?: number };
  destination?: { ip?: string; port?: number };
  network?: {
    iana_number?: string;
    type?: string;
    bytes?: number;
    packets?: number;
    vlan?: { id?: string };
    inner?: { vlan?: { id?: string } };
  };
  icmp?: { type?: number; code?: number };
  observer?: { ingress?: { interface?: { id?: string } } };
  event?: { start?: string; end?: string };
  netflow?: { exporter?: { version?: number }; type?: string };
}

function docKey(d: Doc, vlans: boolean): string {
  const proto = Number(d.network?.iana_number);
  const ports = isIcmp(proto)
    ? `icmp ${d.icmp?.type}/${d.icmp?.code}`
    : `${d.source?.port} > ${d.destination?.port}`;
  const vlan = vlans ? `${d.network?.vlan?.id ?? '-'}/${d.network?.inner?.vlan?.id ?? '-'}` : '';
  return `${d.source?.ip} > ${d.destination?.ip} proto ${proto} ${ports} vlan ${vlan}`;
}

function expectedKey(f: ExpectedFlow, vlans: boolean): string {
  const ports = isIcmp(f.protocol)
    ? `icmp ${f.icmpType}/${f.icmpCode}`
    : `${f.srcPort} > ${f.dstPort}`;
  // v9 and IPFIX always carry both VLAN fields (0 when untagged).
  const vlan = vlans ? `${f.vlan ?? 0}/${f.innerVlan ?? 0}` : '';
  return `${f.src} > ${f.dst} proto ${f.protocol} ${ports} vlan ${vlan}`;
}

test('sluice export → sluice collect → Elasticsearch: every flow with its totals, v5, v9 and IPFIX', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-export-es-'));
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceexport${process.pid}-default`;
  t.after(async () => {
    // Best effort: the test node lacks the data stream REST endpoints (see test/README).
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pcap = join(dir, 'traffic.pcap');
  const generated = writeTraffic(pcap, mixedFlows(T0, { qinq: true }), { seed: 20261130 });
  const expected = new Map(
    VERSIONS.map((v) => [v, generated.flows.filter((f) => v !== 5 || f.ipVersion === 4)]),
  );
  const total = [...expected.values()].reduce((n, fs) => n + fs.length, 0);

  const collector = await Collector.start(
    resolveConfig(
      validateConfig({
        listen: [{ port: 0, address: '127.0.0.1' }],
        data_dir: join(dir, 'data'),
        workers: 1,
        http: { listen: '127.0.0.1:0' },
        receive_buffer_bytes: 1 << 20,
        elasticsearch: { url: es.url, data_stream: dataStream, bulk_interval: 200 },
        journal: { fsync: 'never' },
      }),
    ),
    pino({ level: 'silent' }),
  );
  t.after(() => collector.stop());
  const port = collector.ports[0] as number;
  const run = await runExportCli([
    '--pcap',
    pcap,
    ...VERSIONS.flatMap((v) => ['--to', `127.0.0.1:${port},version=${v}`]),
    '--if-index',
    String(IF_INDEX),
    '--stats-interval',
    '0',
  ]);
  assert.equal(run.code, 0, run.stderr);

  let docs: Doc[] = [];
  await waitFor(
    async () => {
      await client.indices.refresh({ index: dataStream }, { ignore: [404] });
      const r = await client.search<Doc>(
        { index: dataStream, size: 1000, query: { match_all: {} } },
        { ignore: [404] },
      );
      docs = (r.hits?.hits ?? []).map((h) => h._source as Doc);
      return docs.length >= total ? true : undefined;
    },
    { what: `${total} documents in ${dataStream}`, timeoutMs: 60_000, intervalMs: 500 },
  );
  // A moment more: nothing beyond the expected documents arrives.
  await new Promise((r) => setTimeout(r, 1000));
  await client.indices.refresh({ index: dataStream });
  assert.equal((await client.count({ index: dataStream })).count, total, 'no other documents');

  for (const v of VERSIONS) {
    const vlans = v !== 5;
    const mine = docs.filter((d) => d.netflow?.exporter?.version === v);
    const want = expected.get(v) as ExpectedFlow[];
    assert.equal(mine.length, want.length, `v${v}: one document per flow`);
    const byKey = new Map<string, Doc[]>();
    for (const d of mine) byKey.set(docKey(d, vlans), [...(byKey.get(docKey(d, vlans)) ?? []), d]);
    for (const f of want) {
      const key = `v${v} ${expectedKey(f, vlans)}`;
      const found = byKey.get(expectedKey(f, vlans)) ?? [];
      assert.equal(found.length, 1, `${key}: one document (keys: ${[...byKey.keys()].join('; ')})`);
      const d = found[0] as Doc;
      assert.equal(d.network?.packets, f.packets, `${key}: packets`);
      assert.equal(d.network?.bytes, f.bytes, `${key}: bytes`);
      assert.equal(d.network?.type, `ipv${f.ipVersion}`, `${key}: IP version`);
      assert.equal(d.observer?.ingress?.interface?.id, String(IF_INDEX), `${key}: ingress`);
      assert.equal(Date.parse(String(d.event?.start)), Math.floor(f.firstMs), `${key}: start`);
      assert.equal(Date.parse(String(d.event?.end)), Math.floor(f.lastMs), `${key}: end`);
    }
  }
});
