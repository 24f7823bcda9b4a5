// Issue 4, item 9: real exporters (softflowd v9 and IPFIX, pmacct nfprobe v9) export
// generated traffic whose per-flow totals are known; the export datagrams go to a RUNNING
// collector (in-process, real Elasticsearch), and a REAL Prometheus scrapes its /metrics.
//  (a) flow documents in Elasticsearch == flow records the exporters sent (counted by the
//      in-process FlowDecoder on the same datagrams), and each document's packets, bytes,
//      addresses, ports and protocol equal the generator's totals;
//  (b) sum(sluice_flow_bytes_total), read back through Prometheus's query API, equals the
//      bytes of the records sent (sampling 1) and the generator's byte total.
// The testkit runners capture on a socket of their own (they take no target port), so the
// exports are captured first and the captured datagrams are then re-sent, in order, to the
// collector's UDP port, each exporter from its own loopback source address.
// Exporter byte semantics (../../../shared/PEERS.md, exporters.test.ts): softflowd counts
// everything after the link header (Ethernet padding included), pmacct the IP total length.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import {
  type ExportCapture,
  elasticsearchForTests,
  mixedFlows,
  needServer,
  pmacctNfprobeExport,
  softflowdExport,
  startPrometheus,
  waitFor,
  writeTraffic,
} from '@sluice/testkit';
import pino from 'pino';
import { Collector } from '../src/collect/collector.js';
import { resolveConfig, validateConfig } from '../src/config/load.js';
import { FlowDecoder } from '../src/flow/decoder.js';
import type { FlowRecord } from '../src/flow/record.js';
import { type FlowDoc, isIcmp, keyOfDoc, keyOfFlow } from './support/flow-keys.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

interface Case {
  name: string;
  /** Loopback source the captured datagrams are re-sent from: one exporter each. */
  source: string;
  run(traffic: string, dir: string): Promise<ExportCapture>;
  bytes: 'ip' | 'link-payload';
}

const CASES: Case[] = [
  {
    name: 'softflowd v9',
    source: '127.0.0.2',
    run: (pcap, dir) => softflowdExport({ pcap, dir, version: 9, ipv6: true }),
    bytes: 'link-payload',
  },
  {
    name: 'softflowd IPFIX',
    source: '127.0.0.3',
    run: (pcap, dir) => softflowdExport({ pcap, dir, version: 10, ipv6: true }),
    bytes: 'link-payload',
  },
  {
    name: 'pmacct nfprobe v9',
    source: '127.0.0.4',
    run: (pcap, dir) => pmacctNfprobeExport({ pcap, dir, version: 9 }),
    bytes: 'ip',
  },
];

interface Sent {
  c: Case;
  cap: ExportCapture;
  /** Flow records the in-process decoder finds in the datagrams, as the collector sees them. */
  flows: FlowRecord[];
  /** netflow.type of those records' documents. */
  docType: string;
}

function decodeFlows(c: Case, cap: ExportCapture): FlowRecord[] {
  const d = new FlowDecoder();
  const flows: FlowRecord[] = [];
  for (const g of cap.datagrams) {
    const out = d.decode({
      bytes: g.bytes,
      exporter: c.source,
      exporterPort: g.port,
      receivedMs: g.receivedMs,
    });
    for (const r of out.records) if (r.kind === 'flow') flows.push(r);
  }
  return flows;
}

/** Re-sends the captured datagrams to the collector, in order, from `source`. */
async function resend(source: string, cap: ExportCapture, port: number): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address: source, port: 0 }, () => r()));
  try {
    for (const g of cap.datagrams) {
      await new Promise<void>((r, j) =>
        s.send(g.bytes, port, '127.0.0.1', (e) => (e ? j(e) : r())),
      );
      // Paced a little, as in collect-e2e: no kernel drops, templates before data.
      await new Promise((r) => setTimeout(r, 3));
    }
  } finally {
    s.close();
  }
}

const quiet = pino({ level: 'silent' });

test('collect: softflowd and pmacct exports of generated traffic, through a running collector into Elasticsearch and Prometheus', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-collect-exporters-'));
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceexp${process.pid}-default`;
  t.after(async () => {
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const traffic = join(dir, 'traffic.pcap');
  const generated = writeTraffic(traffic, mixedFlows(T0), { seed: 20240501 });

  // 1. Real exporters over the generated traffic (a missing binary skips the test).
  const sent: Sent[] = [];
  for (const c of CASES) {
    const cap = await needServer(t, () => c.run(traffic, dir));
    if (!cap) return;
    const flows = decodeFlows(c, cap);
    assert.ok(flows.length > 0, `${c.name}: flow records decoded`);
    const docType = `${flows[0]?.exporter.protocol}_flow`;
    sent.push({ c, cap, flows, docType });
  }

  // 2. A running collector and a real Prometheus scraping its /metrics.
  const collector = await Collector.start(
    resolveConfig(
      validateConfig({
        listen: [{ port: 0, address: '127.0.0.1' }],
        data_dir: join(dir, 'data'),
        workers: 2,
        http: { listen: '127.0.0.1:0' },
        receive_buffer_bytes: 1 << 20,
        elasticsearch: { url: es.url, data_stream: dataStream, bulk_interval: 200 },
        journal: { fsync: 'never' },
      }),
    ),
    quiet,
  );
  const apiUrl = collector.apiUrl;
  assert.ok(apiUrl, 'the collector serves HTTP');
  const prom = await needServer(t, () =>
    startPrometheus({ targets: [{ job: 'sluice', target: new URL(apiUrl).host }] }),
  );
  // after-hooks run in order: the scraper stops before the collector it scrapes.
  t.after(() => prom?.stop());
  t.after(() => collector.stop());
  if (!prom) return;

  const port = collector.ports[0] as number;
  for (const s of sent) await resend(s.c.source, s.cap, port);

  // (a) document counts: flow documents per exporter == flow records it sent.
  const countOf = async (s: Sent) =>
    (
      await client.count({
        index: dataStream,
        query: {
          bool: {
            filter: [
              { term: { 'netflow.exporter.ip': s.c.source } },
              { term: { 'netflow.type': s.docType } },
            ],
          },
        },
      })
    ).count;
  const wantTotal = sent.reduce((a, s) => a + s.flows.length, 0);
  await waitFor(
    async () => {
      await client.indices.refresh({ index: dataStream }, { ignore: [404] });
      let n = 0;
      for (const s of sent) n += await countOf(s).catch(() => 0);
      return n >= wantTotal ? true : undefined;
    },
    { what: `${wantTotal} flow documents in ${dataStream}`, timeoutMs: 60_000, intervalMs: 500 },
  );
  // Settle: anything beyond the expected documents would show up now.
  await new Promise((r) => setTimeout(r, 1_000));
  await client.indices.refresh({ index: dataStream });
  for (const s of sent)
    assert.equal(await countOf(s), s.flows.length, `${s.c.name}: ${s.docType} documents`);
  const all = await client.count({ index: dataStream });
  const nonFlow = all.count - wantTotal;
  t.diagnostic(
    `flow records sent: ${sent.map((s) => `${s.c.name} ${s.flows.length} ${s.docType}`).join(', ')}; other documents (options): ${nonFlow}`,
  );

  // (a) values: each generated flow exactly once per exporter, with the generator's totals.
  for (const s of sent) {
    const res = await client.search<FlowDoc>({
      index: dataStream,
      size: 10_000,
      query: {
        bool: {
          filter: [
            { term: { 'netflow.exporter.ip': s.c.source } },
            { term: { 'netflow.type': s.docType } },
          ],
        },
      },
      _source: ['source', 'destination', 'network', 'icmp'],
    });
    const byKey = new Map<string, FlowDoc[]>();
    for (const h of res.hits.hits) {
      const d = h._source as FlowDoc;
      const k = keyOfDoc(d);
      byKey.set(k, [...(byKey.get(k) ?? []), d]);
    }
    // All three cases export IPv6 (softflowd -6, pmacct v9).
    for (const f of generated.flows) {
      const k = keyOfFlow(f);
      const docs = byKey.get(k) ?? [];
      assert.equal(docs.length, 1, `${s.c.name}: ${k} indexed once`);
      const d = docs[0] as FlowDoc;
      assert.equal(d.network?.packets, f.packets, `${s.c.name}: ${k} packets`);
      const bytes = s.c.bytes === 'ip' ? f.bytes : f.linkPayloadBytes;
      assert.equal(d.network?.bytes, bytes, `${s.c.name}: ${k} bytes (${s.c.bytes})`);
      if (!isIcmp(f.protocol)) {
        assert.equal(d.source?.port, f.srcPort, `${s.c.name}: ${k} source.port`);
        assert.equal(d.destination?.port, f.dstPort, `${s.c.name}: ${k} destination.port`);
      }
    }
    assert.equal(res.hits.hits.length, generated.flows.length, `${s.c.name}: no extra flows`);
  }

  // (b) Prometheus: the collector's byte counter equals the bytes of the records sent.
  const recordBytes = sent.reduce(
    (a, s) =>
      a +
      s.flows.reduce((b, r) => {
        assert.ok(r.samplingRate === undefined || r.samplingRate === 1, 'unsampled exports');
        return b + (r.bytes ?? 0) + (r.reverseBytes ?? 0);
      }, 0),
    0,
  );
  const generatorBytes = sent.reduce(
    (a, s) =>
      a +
      generated.flows.reduce((b, f) => b + (s.c.bytes === 'ip' ? f.bytes : f.linkPayloadBytes), 0),
    0,
  );
  assert.equal(recordBytes, generatorBytes, 'records sent carry the generated bytes');
  const sum = async (expr: string): Promise<number | undefined> => {
    const r = await prom.query(expr);
    return r[0] ? Number(r[0].value[1]) : undefined;
  };
  await waitFor(
    async () => ((await sum('sum(sluice_flow_bytes_total)')) === recordBytes ? true : undefined),
    {
      what: `sum(sluice_flow_bytes_total) == ${recordBytes} in Prometheus`,
      timeoutMs: 60_000,
      intervalMs: 500,
    },
  );
  assert.equal(await sum('sum(sluice_flow_records_total)'), wantTotal, 'flow records counter');
  const packets = sent.reduce((a, s) => a + s.flows.reduce((b, r) => b + (r.packets ?? 0), 0), 0);
  assert.equal(await sum('sum(sluice_flow_packets_total)'), packets, 'flow packets counter');
});
