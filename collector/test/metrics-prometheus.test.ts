// A real Prometheus scrapes the collector's /metrics; the values come back through
// Prometheus's query API, so the exposition is proven readable by the real consumer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needServer, startPrometheus, waitFor } from '@sluice/testkit';
import { createLogger } from '../src/api/logging.js';
import { startApi } from '../src/api/server.js';
import type { FlowRecord } from '../src/flow/record.js';
import { createMetrics } from '../src/metrics/provider.js';

function flow(over: Partial<FlowRecord>): FlowRecord {
  return {
    kind: 'flow',
    exporter: {
      address: '192.0.2.10',
      port: 2055,
      protocol: 'netflow',
      version: 9,
      domain: 0,
      sequence: 0,
      uptimeMs: undefined,
      exportTimeMs: undefined,
    },
    receivedMs: 1_700_000_000_000,
    fields: [],
    ipVersion: 4,
    direction: 'ingress',
    ...over,
  };
}

test('Prometheus scrapes /metrics: sampling-scaled byte counters read back exactly', async (t) => {
  const metrics = createMetrics({ prometheus: true });
  const api = await startApi({ logger: createLogger({ level: 'silent' }), metrics, port: 0 });
  const prom = await needServer(t, () =>
    startPrometheus({ targets: [{ job: 'sluice', target: new URL(api.url).host }] }),
  );
  // after-hooks run in order: stop the scraper before the endpoint it scrapes.
  t.after(() => prom?.stop());
  t.after(async () => {
    await api.close();
    await metrics.shutdown();
  });
  if (!prom) return;

  // Batch 1: HTTPS (sampled 1:10) and DNS (unsampled).
  metrics.flows.record(
    flow({ protocol: 6, srcPort: 60_000, dstPort: 443, bytes: 1234, packets: 3, samplingRate: 10 }),
  );
  metrics.flows.record(
    flow({ protocol: 17, srcPort: 53, dstPort: 33_000, bytes: 100, packets: 1, samplingRate: 1 }),
  );
  metrics.self.documents('indexed', 2);
  const batch1 = 1234 * 10 + 100;

  const sum = async (expr: string): Promise<number | undefined> => {
    const r = await prom.query(expr);
    return r[0] ? Number(r[0].value[1]) : undefined;
  };
  const until = (expr: string, expected: number) =>
    waitFor(async () => ((await sum(expr)) === expected ? expected : undefined), {
      what: `${expr} == ${expected} in Prometheus`,
      timeoutMs: 60_000,
      intervalMs: 500,
    });

  await until('sum(sluice_flow_bytes_total{job="sluice"})', batch1);
  assert.equal(await sum('sum(sluice_flow_packets_total{job="sluice"})'), 3 * 10 + 1);
  assert.equal(
    await sum('sluice_flow_bytes_total{job="sluice",sluice_flow_application="tcp/443"}'),
    12_340,
  );
  assert.equal(
    await sum(
      'sluice_flow_records_total{network_transport="udp",sluice_flow_application="udp/53"}',
    ),
    1,
  );
  assert.equal(await sum('sluice_documents_total{sluice_document_outcome="indexed"}'), 2);

  // Batch 2 onto an existing series and a new one: the next scrapes see the new totals.
  metrics.flows.record(
    flow({ protocol: 6, srcPort: 60_001, dstPort: 443, bytes: 1000, packets: 1, samplingRate: 10 }),
  );
  metrics.flows.record(flow({ protocol: 1, bytes: 84, packets: 1, samplingRate: 100 }));
  await until('sum(sluice_flow_bytes_total{job="sluice"})', batch1 + 10_000 + 8400);
  assert.equal(await sum('count(sluice_flow_bytes_total{job="sluice"})'), 3);
  assert.equal(await sum('up{job="sluice"}'), 1);
  // Only the promised labels exist (plus Prometheus's job/instance and the scope).
  const allowed = new Set([
    '__name__',
    'job',
    'instance',
    'otel_scope_name',
    'otel_scope_version',
    'sluice_exporter_address',
    'sluice_interface_input',
    'sluice_interface_output',
    'network_transport',
    'network_type',
    'sluice_flow_direction',
    'sluice_flow_application',
  ]);
  for (const s of await prom.query('sluice_flow_bytes_total')) {
    for (const k of Object.keys(s.metric)) assert.ok(allowed.has(k), `unexpected label ${k}`);
  }
});
