// `sluice collect` end to end against the real Elasticsearch: export datagrams over UDP,
// every record indexed exactly once, across restarts, replays and an Elasticsearch outage.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, freePort, needServer, waitFor } from '@sluice/testkit';
import pino from 'pino';
import { Collector } from '../src/collect/collector.js';
import { resolveConfig, validateConfig } from '../src/config/load.js';
import { FlowDecoder } from '../src/flow/decoder.js';
import { datagramsFromCaptures } from '../src/ingest/capture-source.js';
import { startEsProxy } from '../src/sink/elasticsearch/proxy.test-helpers.js';
import { CAPTURE_EXPORTERS, countDocuments } from './support/capture-exporters.js';

/** What the in-process decoder makes of the same datagrams: the number of documents. */
function expectedDocuments(): number {
  let n = 0;
  for (const [exporter, files] of CAPTURE_EXPORTERS) {
    const d = new FlowDecoder();
    for (const g of datagramsFromCaptures(files)) n += d.decode({ ...g, exporter }).records.length;
  }
  return n;
}

async function send(port: number): Promise<number> {
  let sent = 0;
  for (const [address, files] of CAPTURE_EXPORTERS) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind({ address, port: 0 }, () => r()));
    for (const g of datagramsFromCaptures(files)) {
      await new Promise<void>((r, j) =>
        s.send(g.bytes, port, '127.0.0.1', (e) => (e ? j(e) : r())),
      );
      sent += 1;
      // Paced a little: templates must land before their data in journal order.
      await new Promise((r) => setTimeout(r, 5));
    }
    s.close();
  }
  return sent;
}

function config(dataDir: string, esUrl: string, dataStream: string, allow?: string[]) {
  return resolveConfig(
    validateConfig({
      ...(allow ? { allow } : {}),
      listen: [{ port: 0, address: '127.0.0.1' }],
      data_dir: dataDir,
      workers: 2,
      http: { listen: '127.0.0.1:0' },
      receive_buffer_bytes: 1 << 20,
      elasticsearch: { url: esUrl, data_stream: dataStream, bulk_interval: 200 },
      journal: { fsync: 'never' },
    }),
  );
}

const quiet = pino({ level: 'silent' });

test('collect: UDP exports end up in Elasticsearch exactly once, across restart and replay', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluicee2e${process.pid}-default`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  t.after(async () => {
    // Best effort: the test node lacks the data stream REST endpoints (see test/README).
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const want = expectedDocuments();
  assert.ok(want > 30, `${want} documents expected`);

  const c1 = await Collector.start(config(dir, es.url, dataStream), quiet);
  const sent = await send(c1.ports[0] as number);
  await waitFor(
    async () => ((await countDocuments(client, dataStream)) === want ? true : undefined),
    {
      what: `${want} documents in ${dataStream}`,
      timeoutMs: 60_000,
      intervalMs: 500,
    },
  );
  // Documents carry what the decoders found, e.g. the v5 capture's 29 flows from 127.0.0.3.
  const v5 = await client.count({
    index: dataStream,
    query: { term: { 'netflow.exporter.ip': '127.0.0.3' } },
  });
  assert.equal(v5.count, 29);
  const sflow = await client.count({
    index: dataStream,
    query: { term: { 'netflow.type': 'sflow_flow' } },
  });
  assert.ok(sflow.count >= 6);
  // Metrics: as many flow records as flow documents, scraped from /metrics.
  const metrics = await (await fetch(`${c1.apiUrl}/metrics`)).text();
  const flows = [...metrics.matchAll(/^sluice_flow_records_total\{[^}]*\} (\d+)/gm)].reduce(
    (a, m) => a + Number(m[1]),
    0,
  );
  const flowDocs = await client.count({
    index: dataStream,
    query: { terms: { 'netflow.type': ['netflow_flow', 'sflow_flow'] } },
  });
  assert.equal(flows, flowDocs.count);
  assert.match(metrics, /sluice_datagrams_accepted_total\{[^}]*\} \d+/);
  const ready = await fetch(`${c1.apiUrl}/readyz`);
  assert.equal(ready.status, 200);
  // The query API of the same server ranks exporters by flows on the v5 capture's day.
  const topn = await fetch(`${c1.apiUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      kind: 'topn',
      from: '2023-04-04T00:00:00Z',
      to: '2023-04-05T00:00:00Z',
      fields: ['netflow.exporter.ip'],
      metric: 'flows',
      filter: 'proto tcp or proto udp or proto icmp',
    }),
  });
  assert.equal(topn.status, 200, await topn.clone().text());
  const body = (await topn.json()) as {
    frames: { fields: { name: string; values: unknown[] }[] }[];
  };
  const cols = body.frames[0]?.fields ?? [];
  assert.deepEqual(cols[0]?.values, ['127.0.0.3']);
  assert.deepEqual(cols[1]?.values, [29]);
  await c1.stop();

  // Restart on the same data dir: nothing new, nothing duplicated.
  const c2 = await Collector.start(config(dir, es.url, dataStream), quiet);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await countDocuments(client, dataStream), want);
  await c2.stop();

  // A crash that lost the checkpoint: the whole journal is replayed, ids repeat, and
  // Elasticsearch refuses every duplicate.
  rmSync(join(dir, 'checkpoint.json'));
  const c3 = await Collector.start(config(dir, es.url, dataStream), quiet);
  await waitFor(
    async () => (c3.status().checkpoint >= c3.status().journalHead ? true : undefined),
    {
      what: 'the replay to finish',
      timeoutMs: 60_000,
    },
  );
  assert.equal(await countDocuments(client, dataStream), want);
  await c3.stop();
  assert.ok(sent > 0);
});

test('collect: while Elasticsearch is down, datagrams wait in the journal, then all arrive once', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceoutage${process.pid}-default`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  const port = await freePort();
  t.after(async () => {
    // Best effort: the test node lacks the data stream REST endpoints (see test/README).
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const want = expectedDocuments();
  // Nothing listens on the proxy's port yet: connection refused.
  const c = await Collector.start(config(dir, `http://127.0.0.1:${port}`, dataStream), quiet);
  t.after(() => c.stop());
  await send(c.ports[0] as number);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(c.status().elasticsearch, 'waiting');
  assert.ok(c.status().journalHead > 0, 'datagrams are in the journal');
  assert.equal(c.status().checkpoint, 0);
  const notReady = await fetch(`${c.apiUrl}/readyz`);
  assert.equal(notReady.status, 503);
  assert.match(await notReady.text(), /elasticsearch/);
  // Elasticsearch comes back (through a proxy on the port the collector was given).
  const proxy = await startEsProxy(es.url, { port });
  t.after(() => proxy.close());
  await waitFor(
    async () => ((await countDocuments(client, dataStream)) === want ? true : undefined),
    {
      what: `${want} documents after the outage`,
      timeoutMs: 90_000,
      intervalMs: 500,
    },
  );
  await waitFor(() => (c.status().checkpoint === c.status().journalHead ? true : undefined), {
    what: 'the checkpoint to reach the journal head',
    timeoutMs: 30_000,
  });
});

test('collect: the allow-list keeps other exporters out, counted by reason', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceallow${process.pid}-default`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  t.after(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // Only the v5 exporter (127.0.0.3) is allowed.
  const c = await Collector.start(config(dir, es.url, dataStream, ['127.0.0.3/32']), quiet);
  t.after(() => c.stop());
  await send(c.ports[0] as number);
  await waitFor(
    async () => ((await countDocuments(client, dataStream)) === 29 ? true : undefined),
    {
      what: 'the 29 records of the allowed exporter',
      timeoutMs: 60_000,
      intervalMs: 500,
    },
  );
  const metrics = await (await fetch(`${c.apiUrl}/metrics`)).text();
  const rejected = [...metrics.matchAll(/^sluice_datagrams_rejected_total\{([^}]*)\} (\d+)/gm)];
  assert.ok(rejected.length > 0, 'rejections are counted');
  assert.ok(rejected.every((m) => (m[1] ?? '').includes('not_allowed')));
  assert.ok(!rejected.some((m) => (m[1] ?? '').includes('127.0.0.3')));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await countDocuments(client, dataStream), 29, 'nothing from the others');
});
