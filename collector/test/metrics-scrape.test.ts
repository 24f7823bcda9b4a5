// The collector's metrics read the way Prometheus reads them: a real API server on a
// free port, /metrics scraped over HTTP and the text exposition parsed here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../src/api/logging.js';
import { startApi } from '../src/api/server.js';
import type { FlowRecord } from '../src/flow/record.js';
import { readUdpDrops } from '../src/metrics/procnet.js';
import { createMetrics, type Metrics } from '../src/metrics/provider.js';
import { VERSION } from '../src/version.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Text exposition format 0.0.4: `name{label="value",...} value`, comments skipped. */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    assert.ok(m, `unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const v = m[3] ?? '';
    out.push({ name: m[1] ?? '', labels, value: v === '+Inf' ? Infinity : Number(v) });
  }
  return out;
}

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The value of the one series matching, failing when there is not exactly one. */
function one(samples: Sample[], name: string, labels: Record<string, string>): number {
  const hits = find(samples, name, labels);
  assert.equal(hits.length, 1, `${name} ${JSON.stringify(labels)}: ${hits.length} series`);
  return hits[0]?.value ?? Number.NaN;
}

function flow(
  over: Partial<FlowRecord> & { exporterAddress?: string; agent?: string },
): FlowRecord {
  const { exporterAddress, agent, ...rest } = over;
  return {
    kind: 'flow',
    exporter: {
      address: exporterAddress ?? '192.0.2.1',
      port: 50_123,
      protocol: agent ? 'sflow' : 'netflow',
      version: agent ? 5 : 9,
      domain: 0,
      sequence: 1,
      uptimeMs: undefined,
      exportTimeMs: undefined,
      ...(agent ? { agent } : {}),
    },
    receivedMs: 1_700_000_000_000,
    fields: [],
    ...rest,
  };
}

async function serve(metrics: Metrics) {
  const api = await startApi({ logger: createLogger({ level: 'silent' }), metrics, port: 0 });
  return {
    api,
    async scrape(): Promise<{ text: string; samples: Sample[] }> {
      const res = await fetch(`${api.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      return { text, samples: parseExposition(text) };
    },
  };
}

test('flow counters: sampling-scaled totals per attribute tuple, no endpoint addresses', async (t) => {
  const metrics = createMetrics({ prometheus: true, resource: { serviceInstanceId: 'scrape-a' } });
  const { api, scrape } = await serve(metrics);
  t.after(async () => {
    await api.close();
    await metrics.shutdown();
  });
  const f = metrics.flows;
  // Tuple A, twice, from different endpoints: both land in one series.
  f.record(
    flow({
      inInterface: 3,
      outInterface: 7,
      protocol: 6,
      ipVersion: 4,
      direction: 'ingress',
      srcAddr: '10.1.1.1',
      srcPort: 51_000,
      dstAddr: '10.2.2.2',
      dstPort: 443,
      bytes: 1000,
      packets: 10,
      samplingRate: 100,
    }),
  );
  f.record(
    flow({
      inInterface: 3,
      outInterface: 7,
      protocol: 6,
      ipVersion: 4,
      direction: 'ingress',
      srcAddr: '10.1.1.9',
      srcPort: 52_000,
      dstAddr: '10.2.2.2',
      dstPort: 443,
      bytes: 400,
      packets: 4,
      // A biflow: the reverse direction counts too, as in network.bytes.
      reverseBytes: 600,
      reversePackets: 6,
      samplingRate: 100,
    }),
  );
  // Tuple B: IPv6, UDP from port 53, unsampled.
  f.record(
    flow({
      exporterAddress: '2001:db8::1',
      inInterface: 1,
      outInterface: 2,
      protocol: 17,
      ipVersion: 6,
      direction: 'egress',
      srcAddr: '2001:db8:a::5',
      srcPort: 53,
      dstAddr: '2001:db8:b::6',
      dstPort: 40_000,
      bytes: 200,
      packets: 2,
      samplingRate: 1,
    }),
  );
  // Tuple C: sFlow, counted under the agent address, both ports high: 'other'.
  f.record(
    flow({
      exporterAddress: '198.51.100.99',
      agent: '198.51.100.7',
      inInterface: 5,
      outInterface: 6,
      protocol: 6,
      ipVersion: 4,
      srcAddr: '10.3.3.3',
      srcPort: 40_001,
      dstAddr: '10.4.4.4',
      dstPort: 50_000,
      bytes: 1500,
      packets: 1,
      samplingRate: 512,
    }),
  );
  // Tuple D: ICMP, no interfaces, no sampling known.
  f.record(flow({ protocol: 1, ipVersion: 4, srcAddr: '10.5.5.5', bytes: 84, packets: 1 }));
  // Not flows: ignored.
  f.record(flow({ kind: 'options', bytes: 999_999, samplingRate: 10 }));
  f.record(flow({ kind: 'counters', bytes: 999_999 }));

  const { text, samples } = await scrape();
  const A = {
    sluice_exporter_address: '192.0.2.1',
    sluice_interface_input: '3',
    sluice_interface_output: '7',
    network_transport: 'tcp',
    network_type: 'ipv4',
    sluice_flow_direction: 'ingress',
    sluice_flow_application: 'tcp/443',
    otel_scope_name: 'sluice',
  };
  const B = {
    sluice_exporter_address: '2001:db8::1',
    sluice_interface_input: '1',
    sluice_interface_output: '2',
    network_transport: 'udp',
    network_type: 'ipv6',
    sluice_flow_direction: 'egress',
    sluice_flow_application: 'udp/53',
  };
  const C = {
    sluice_exporter_address: '198.51.100.7',
    network_transport: 'tcp',
    sluice_flow_direction: 'unknown',
    sluice_flow_application: 'other',
  };
  const D = { network_transport: 'icmp', sluice_flow_application: 'other' };

  assert.equal(one(samples, 'sluice_flow_bytes_total', A), (1000 + 400 + 600) * 100);
  assert.equal(one(samples, 'sluice_flow_packets_total', A), (10 + 4 + 6) * 100);
  assert.equal(one(samples, 'sluice_flow_records_total', A), 2);
  assert.equal(one(samples, 'sluice_flow_bytes_total', B), 200);
  assert.equal(one(samples, 'sluice_flow_packets_total', B), 2);
  assert.equal(one(samples, 'sluice_flow_bytes_total', C), 1500 * 512);
  assert.equal(one(samples, 'sluice_flow_packets_total', C), 512);
  assert.equal(one(samples, 'sluice_flow_bytes_total', D), 84);
  assert.equal(one(samples, 'sluice_flow_records_total', D), 1);

  // Exactly the attributes promised, nothing else (the exporter adds the scope labels).
  const a = find(samples, 'sluice_flow_bytes_total', A)[0];
  assert.deepEqual(
    Object.keys(a?.labels ?? {}).sort(),
    [...Object.keys(A), 'otel_scope_version'].sort(),
  );
  // Unknown facts are left out, not invented.
  const d = find(samples, 'sluice_flow_bytes_total', D)[0];
  assert.equal(d?.labels.sluice_interface_input, undefined);
  assert.equal(d?.labels.sluice_flow_direction, 'unknown');

  assert.equal(find(samples, 'sluice_flow_bytes_total', {}).length, 4);
  const total = find(samples, 'sluice_flow_bytes_total', {}).reduce((s, x) => s + x.value, 0);
  assert.equal(total, 200_000 + 200 + 768_000 + 84);
  // No endpoint address, no high port, and not the UDP source when an agent was named.
  for (const secret of ['10.1.1.1', '10.1.1.9', '10.2.2.2', '2001:db8:a::5', '10.3.3.3']) {
    assert.ok(!text.includes(secret), `${secret} must not appear in /metrics`);
  }
  for (const port of ['51000', '52000', '40000', '40001', '50000', '198.51.100.99']) {
    assert.ok(!text.includes(`"${port}`), `${port} must not appear as a label value`);
  }
  // The resource.
  const info = find(samples, 'target_info', {})[0];
  assert.equal(info?.labels.service_name, 'sluice');
  assert.equal(info?.labels.service_version, VERSION);
  assert.equal(info?.labels.service_instance_id, 'scrape-a');
});

test('cardinality cap: tuples past the limit share the overflow series, totals exact', async (t) => {
  const limit = 10;
  const metrics = createMetrics({ prometheus: true, flowCardinalityLimit: limit });
  const { api, scrape } = await serve(metrics);
  t.after(async () => {
    await api.close();
    await metrics.shutdown();
  });
  const tuple = (inIf: number) =>
    flow({ inInterface: inIf, protocol: 6, ipVersion: 4, bytes: 100, packets: 1, samplingRate: 2 });

  for (let i = 0; i < 25; i++) metrics.flows.record(tuple(i));
  let { samples } = await scrape();
  let series = find(samples, 'sluice_flow_bytes_total', {});
  assert.equal(series.length, limit, 'limit - 1 tuples plus the overflow series');
  assert.equal(one(samples, 'sluice_flow_bytes_total', { otel_metric_overflow: 'true' }), 16 * 200);
  assert.equal(one(samples, 'sluice_flow_records_total', { otel_metric_overflow: 'true' }), 16);
  assert.equal(
    series.reduce((s, x) => s + x.value, 0),
    25 * 200,
  );
  assert.equal(metrics.flows.tuples, limit - 1);

  // After a collection, new tuples still go to overflow (the SDK's own limit is per
  // collection interval; the cap holds across scrapes) and old ones keep counting.
  for (let i = 100; i < 107; i++) metrics.flows.record(tuple(i));
  metrics.flows.record(tuple(0));
  ({ samples } = await scrape());
  series = find(samples, 'sluice_flow_bytes_total', {});
  assert.equal(series.length, limit);
  assert.equal(one(samples, 'sluice_flow_bytes_total', { otel_metric_overflow: 'true' }), 23 * 200);
  assert.equal(one(samples, 'sluice_flow_bytes_total', { sluice_interface_input: '0' }), 400);
  assert.equal(
    series.reduce((s, x) => s + x.value, 0),
    33 * 200,
  );
  const records = find(samples, 'sluice_flow_records_total', {});
  assert.equal(
    records.reduce((s, x) => s + x.value, 0),
    33,
  );
});

test('self-metrics: counters, gauges and the bulk latency histogram', async (t) => {
  const metrics = createMetrics({ prometheus: true, exporterCardinalityLimit: 5 });
  const { api, scrape } = await serve(metrics);
  t.after(async () => {
    await api.close();
    await metrics.shutdown();
  });
  const s = metrics.self;
  for (let i = 0; i < 3; i++) s.datagram('192.0.2.1', 'accepted');
  s.datagram('203.0.113.5', 'rejected', 'not_allowed');
  s.datagram('203.0.113.5', 'rejected', 'not_allowed');
  s.decodeError('192.0.2.1', 'truncated');
  s.templateMiss('192.0.2.1', 4);
  s.sequence('192.0.2.1', { event: 'gap', missing: 5 });
  s.sequence('192.0.2.1', { event: 'gap', missing: 2 });
  s.sequence('192.0.2.1', { event: 'ok', missing: 0 });
  s.sequence('192.0.2.1', { event: 'reset', missing: 0 });
  s.bulkLatency(0.02);
  s.bulkLatency(0.3);
  s.bulkLatency(0.3);
  s.bulkLatency(1.5, '429');
  s.documents('indexed', 10);
  s.documents('duplicate', 2);
  s.documents('dead_lettered');
  s.onJournalBytes(() => 4096);
  s.onIndexingLag(() => ({ seconds: 1.5, bytes: 2048 }));
  // More exporters than the limit: the overflow series takes the rest.
  for (let i = 0; i < 8; i++) s.datagram(`198.18.0.${i}`, 'accepted');

  const { samples } = await scrape();
  const ex1 = { sluice_exporter_address: '192.0.2.1' };
  const ex2 = { sluice_exporter_address: '203.0.113.5' };
  assert.equal(one(samples, 'sluice_datagrams_received_total', ex1), 3);
  assert.equal(one(samples, 'sluice_datagrams_accepted_total', ex1), 3);
  assert.equal(one(samples, 'sluice_datagrams_received_total', ex2), 2);
  assert.equal(
    one(samples, 'sluice_datagrams_rejected_total', { ...ex2, error_type: 'not_allowed' }),
    2,
  );
  assert.equal(one(samples, 'sluice_decode_errors_total', { ...ex1, error_type: 'truncated' }), 1);
  assert.equal(one(samples, 'sluice_template_misses_total', ex1), 4);
  assert.equal(one(samples, 'sluice_sequence_gaps_total', ex1), 2);
  assert.equal(one(samples, 'sluice_sequence_missing_total', ex1), 7);
  assert.equal(one(samples, 'sluice_sequence_resets_total', ex1), 1);
  assert.equal(one(samples, 'sluice_documents_total', { sluice_document_outcome: 'indexed' }), 10);
  assert.equal(one(samples, 'sluice_documents_total', { sluice_document_outcome: 'duplicate' }), 2);
  assert.equal(
    one(samples, 'sluice_documents_total', { sluice_document_outcome: 'dead_lettered' }),
    1,
  );
  assert.equal(one(samples, 'sluice_journal_bytes', {}), 4096);
  assert.equal(one(samples, 'sluice_indexing_lag_seconds', {}), 1.5);
  assert.equal(one(samples, 'sluice_indexing_lag_bytes', {}), 2048);

  const ok = { db_system_name: 'elasticsearch', db_operation_name: 'bulk' };
  const okCount = find(samples, 'db_client_operation_duration_count', ok).filter(
    (x) => x.labels.error_type === undefined,
  );
  assert.equal(okCount.length, 1);
  assert.equal(okCount[0]?.value, 3);
  const bucket = (le: string) =>
    find(samples, 'db_client_operation_duration_bucket', { ...ok, le }).filter(
      (x) => x.labels.error_type === undefined,
    )[0]?.value;
  assert.equal(bucket('0.025'), 1);
  assert.equal(bucket('0.25'), 1);
  assert.equal(bucket('0.5'), 3);
  assert.equal(bucket('+Inf'), 3);
  assert.equal(one(samples, 'db_client_operation_duration_count', { ...ok, error_type: '429' }), 1);

  // Exporter limit 5: 192.0.2.1, 203.0.113.5 and two of the 198.18.0.x have their own
  // series (limit - 1 = 4 entries), the other six land in overflow.
  const received = find(samples, 'sluice_datagrams_received_total', {});
  assert.equal(received.length, 5);
  assert.equal(
    one(samples, 'sluice_datagrams_received_total', { otel_metric_overflow: 'true' }),
    6,
  );
  assert.equal(
    received.reduce((sum, x) => sum + x.value, 0),
    3 + 2 + 8,
  );
});

test('kernel drops of a listening socket reach /metrics from /proc/net/udp', async (t) => {
  const sock = createSocket({ type: 'udp4', recvBufferSize: 4096 });
  sock.on('message', () => {});
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const { port } = sock.address() as AddressInfo;
  const metrics = createMetrics({ prometheus: true });
  metrics.self.onUdpDrops({ ports: () => [port] });
  const { api, scrape } = await serve(metrics);
  t.after(async () => {
    sock.close();
    await api.close();
    await metrics.shutdown();
  });

  // A burst from another process while this event loop is blocked (execFileSync): the
  // tiny receive buffer fills and the kernel drops the rest.
  execFileSync(process.execPath, ['-e', BURST, String(port)], { timeout: 30_000 });
  const [drops] = (await readUdpDrops(new Set([port]))).filter((d) => d.family === 'ipv4');
  assert.ok(drops && drops.drops > 0, 'the kernel dropped datagrams');

  const { samples } = await scrape();
  const v = one(samples, 'sluice_udp_drops_total', {
    sluice_listener_port: String(port),
    network_type: 'ipv4',
  });
  assert.equal(v, drops.drops);
});

/** Sends 2000 datagrams of 1200 bytes to 127.0.0.1:argv[1], then exits. */
const BURST = `
const s = require('node:dgram').createSocket('udp4');
const port = Number(process.argv[1]);
const buf = Buffer.alloc(1200);
let left = 2000;
for (let i = 0; i < 2000; i++) s.send(buf, port, '127.0.0.1', () => { if (--left === 0) s.close(); });
`;
