// OTLP http/protobuf push: a tiny receiver in the test takes the exporter's POSTs to
// /v1/metrics; protobuf keeps strings as plain UTF-8, so metric names show in the bytes.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { waitFor } from '@sluice/testkit';
import type { FlowRecord } from '../src/flow/record.js';
import { createMetrics, otlpMetricsUrl } from '../src/metrics/provider.js';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

async function receiver() {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      // An empty ExportMetricsServiceResponse: full success.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    requests,
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const record: FlowRecord = {
  kind: 'flow',
  exporter: {
    address: '192.0.2.20',
    port: 4739,
    protocol: 'netflow',
    version: 10,
    domain: 1,
    sequence: 0,
    uptimeMs: undefined,
    exportTimeMs: undefined,
  },
  receivedMs: 1_700_000_000_000,
  fields: [],
  srcAddr: '10.9.9.9',
  dstAddr: '10.8.8.8',
  srcPort: 44_444,
  dstPort: 443,
  protocol: 6,
  ipVersion: 4,
  bytes: 5000,
  packets: 5,
  samplingRate: 4,
};

test('OTLP endpoint URL: base URLs get /v1/metrics, full ones are kept', () => {
  assert.equal(otlpMetricsUrl('http://otel:4318'), 'http://otel:4318/v1/metrics');
  assert.equal(otlpMetricsUrl('http://otel:4318/'), 'http://otel:4318/v1/metrics');
  assert.equal(otlpMetricsUrl('https://gw/otlp'), 'https://gw/otlp/v1/metrics');
  assert.equal(otlpMetricsUrl('http://otel:4318/v1/metrics'), 'http://otel:4318/v1/metrics');
});

test('OTLP: forceFlush POSTs protobuf with the metric names and the configured headers', async (t) => {
  const rx = await receiver();
  const metrics = createMetrics({
    prometheus: false,
    // A long interval: the export below is the flush, not the timer.
    otlp: {
      endpoint: rx.endpoint,
      headers: { authorization: 'Bearer otlp-token' },
      intervalMs: 600_000,
    },
  });
  t.after(async () => {
    await metrics.shutdown();
    await rx.close();
  });
  assert.equal(metrics.prometheus, undefined);
  metrics.flows.record(record);
  metrics.self.datagram('192.0.2.20', 'accepted');
  metrics.self.bulkLatency(0.04);

  await metrics.forceFlush();
  const req = rx.requests.at(-1);
  assert.ok(req, 'an export request arrived');
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/v1/metrics');
  assert.equal(req.headers['content-type'], 'application/x-protobuf');
  assert.equal(req.headers.authorization, 'Bearer otlp-token');
  assert.ok(req.body.length > 0);
  const bytes = req.body.toString('latin1');
  for (const s of [
    'sluice.flow.bytes',
    'sluice.flow.packets',
    'sluice.flow.records',
    'sluice.datagrams.accepted',
    'db.client.operation.duration',
    'service.name',
    'sluice',
    'tcp/443',
    '192.0.2.20',
  ]) {
    assert.ok(bytes.includes(s), `${s} in the OTLP payload`);
  }
  for (const s of ['10.9.9.9', '10.8.8.8']) assert.ok(!bytes.includes(s), `${s} not exported`);
});

test('OTLP: the periodic reader pushes on its own and once more at shutdown', async (t) => {
  const rx = await receiver();
  t.after(() => rx.close());
  const metrics = createMetrics({
    prometheus: false,
    otlp: { endpoint: `${rx.endpoint}/v1/metrics`, intervalMs: 200 },
  });
  metrics.flows.record(record);
  await waitFor(() => (rx.requests.length >= 2 ? true : undefined), {
    what: 'two periodic OTLP exports',
    timeoutMs: 20_000,
    intervalMs: 50,
  });
  const before = rx.requests.length;
  await metrics.shutdown();
  assert.ok(rx.requests.length > before, 'shutdown exported the final values');
  for (const r of rx.requests) {
    assert.equal(r.url, '/v1/metrics');
    assert.ok(r.body.toString('latin1').includes('sluice.flow.bytes'));
  }
});
