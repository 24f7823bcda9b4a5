// Issue 4, item 9: a flood of garbage from one source does not cost the others. The
// collector runs as its own process (as deployed: the flood and the test's senders do
// not share its event loop) with two listeners and a per-exporter packet limit. One
// source floods listener A with garbage as fast as this process can send; four good
// exporters send IPFIX to listener B, paced like real exporters, meanwhile. No wall-clock
// thresholds; what is checked is accounting:
//  - every good record is indexed, exactly (counts per exporter, from what the test sent);
//  - no good datagram was lost: the kernel dropped nothing on B, and each good exporter's
//    received = accepted = sent, none rejected;
//  - the flood is counted under its exporter: every flood datagram is either received by
//    the collector or dropped by the kernel on A (received + drops(A) = sent); received =
//    accepted + rejected; the accepted ones are all decode errors, never documents;
//  - the rate limit kicked in for the flooder: rejected as rate_limited, and accepted no
//    more than the token bucket allows (burst + rate x the time the flood could reach it).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, freePort, needServer, waitFor } from '@sluice/testkit';
import { Bytes, ipfixMessage, ipfixTemplateRecord, set } from './support/wire.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const RATE = 400; // limits.max_packets_per_second_per_exporter
const FLOODER = '127.0.0.9';
const GOOD = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const MESSAGES = 60; // per good exporter
const RECORDS = 10; // per message
const GARBAGE = 30_000;

/** A good exporter's stream: a template, then MESSAGES messages of RECORDS records. */
function goodStream(k: number): Uint8Array[] {
  const fields = [
    { id: 8, length: 4 }, // sourceIPv4Address
    { id: 12, length: 4 }, // destinationIPv4Address
    { id: 7, length: 2 }, // sourceTransportPort
    { id: 11, length: 2 }, // destinationTransportPort
    { id: 4, length: 1 }, // protocolIdentifier
    { id: 1, length: 8 }, // octetDeltaCount
    { id: 2, length: 8 }, // packetDeltaCount
  ];
  const out: Uint8Array[] = [];
  for (let m = 0; m < MESSAGES; m++) {
    const b = new Bytes();
    for (let r = 0; r < RECORDS; r++) {
      b.ip4(`10.${k}.${m}.${r + 1}`).ip4('192.0.2.80');
      b.u16(40_000 + r)
        .u16(443)
        .u8(6)
        .u64(BigInt(1000 + r))
        .u64(BigInt(r + 1));
    }
    const sets = [set(256, b.bytes())];
    if (m === 0) sets.unshift(set(2, ipfixTemplateRecord(256, fields)));
    out.push(
      ipfixMessage(sets, { domain: k, sequence: m * RECORDS, exportSecs: 1_714_100_000 + m }),
    );
  }
  return out;
}

async function bound(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address, port: 0 }, () => r()));
  return s;
}

function sendTo(s: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((r, j) => s.send(bytes, port, '127.0.0.1', (e) => (e ? j(e) : r())));
}

async function freeUdpPort(): Promise<number> {
  const s = await bound('127.0.0.1');
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function startCollector(config: string): ChildProcess {
  const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(["node", "sluice", ...process.argv.slice(1)]);`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', 'collect', '--config', config],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.resume();
  return child;
}

/** Sum of a Prometheus series over the label sets that contain every `match` text. */
function metric(text: string, name: string, ...match: string[]): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))]
    .filter((m) => match.every((s) => (m[1] ?? '').includes(s)))
    .reduce((a, m) => a + Number(m[2]), 0);
}

test('collect: a garbage flood from one source is rate-limited and counted under it; the other exporters lose nothing', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceflood2${process.pid}-default`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-flood2-'));
  t.after(async () => {
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const [portA, portB, httpPort] = [await freeUdpPort(), await freeUdpPort(), await freePort()];
  const config = join(dir, 'sluice.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: [
        { port: portA, address: '127.0.0.1' },
        { port: portB, address: '127.0.0.1' },
      ],
      data_dir: join(dir, 'data'),
      workers: 1,
      log_level: 'error',
      receive_buffer_bytes: '4MiB',
      http: { listen: `127.0.0.1:${httpPort}` },
      limits: { max_packets_per_second_per_exporter: RATE },
      elasticsearch: { url: es.url, data_stream: dataStream, bulk_interval: 200 },
      journal: { fsync: 'never' },
    }),
  );
  const child = startCollector(config);
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
  const api = `http://127.0.0.1:${httpPort}`;
  await waitFor(
    async () => ((await fetch(`${api}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    {
      what: 'the collector ready',
      timeoutMs: 60_000,
    },
  );

  // The flood: random bytes led by 0xEE (no format's version), as fast as we can send.
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    return seed >>> 16;
  };
  const floodStart = performance.now();
  const flood = (async () => {
    const s = await bound(FLOODER);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < GARBAGE; i++) {
      const b = new Uint8Array(24 + (random() % 400));
      for (let k = 0; k < b.length; k++) b[k] = random() & 0xff;
      b[0] = 0xee;
      pending.push(sendTo(s, b, portA));
      if (pending.length >= 256) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    s.close();
  })();
  // The good exporters, paced (every 5 ms one of them sends), meanwhile.
  const streams = GOOD.map((_, k) => goodStream(k + 1));
  const good = (async () => {
    const sockets = await Promise.all(GOOD.map(bound));
    for (let m = 0; m < MESSAGES; m++) {
      for (const [k, s] of sockets.entries()) {
        await sendTo(s, streams[k]?.[m] as Uint8Array, portB);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    for (const s of sockets) s.close();
  })();
  await Promise.all([flood, good]);

  // Every good record indexed, per exporter.
  const perExporter = async () => {
    await client.indices.refresh({ index: dataStream }, { ignore: [404] });
    const r = await client.search({
      index: dataStream,
      size: 0,
      aggs: { e: { terms: { field: 'netflow.exporter.ip', size: 20 } } },
    });
    const agg = r.aggregations?.e as { buckets: { key: string; doc_count: number }[] } | undefined;
    const buckets = agg?.buckets ?? [];
    return new Map(buckets.map((b) => [b.key, b.doc_count]));
  };
  const want = MESSAGES * RECORDS;
  await waitFor(
    async () => {
      const m = await perExporter().catch(() => new Map<string, number>());
      return GOOD.every((e) => (m.get(e) ?? 0) >= want) ? true : undefined;
    },
    { what: `${want} documents from each good exporter`, timeoutMs: 90_000, intervalMs: 500 },
  );

  // The collector's counters, once the flood has all been read (received + dropped = sent).
  const text = await waitFor(
    async () => {
      const m = await (await fetch(`${api}/metrics`)).text();
      const received = metric(m, 'sluice_datagrams_received_total', `"${FLOODER}"`);
      const dropsA = metric(m, 'sluice_udp_drops_total', `sluice_listener_port="${portA}"`);
      const errors = metric(m, 'sluice_decode_errors_total', `"${FLOODER}"`);
      const accepted = metric(m, 'sluice_datagrams_accepted_total', `"${FLOODER}"`);
      return received + dropsA === GARBAGE && errors === accepted ? m : undefined;
    },
    {
      what: 'every flood datagram received or dropped, every accepted one a decode error',
      timeoutMs: 60_000,
    },
  );
  const floodSeconds = (performance.now() - floodStart) / 1000;
  await new Promise((r) => setTimeout(r, 1_000));
  const indexed = await perExporter();
  t.diagnostic(`documents per exporter: ${JSON.stringify([...indexed])}`);

  // The good exporters lost nothing.
  for (const [k, e] of GOOD.entries()) {
    const sent = streams[k]?.length ?? 0;
    assert.equal(indexed.get(e), want, `${e}: documents = records sent`);
    assert.equal(metric(text, 'sluice_datagrams_received_total', `"${e}"`), sent, `${e}: received`);
    assert.equal(metric(text, 'sluice_datagrams_accepted_total', `"${e}"`), sent, `${e}: accepted`);
    assert.equal(metric(text, 'sluice_datagrams_rejected_total', `"${e}"`), 0, `${e}: rejected`);
    assert.equal(metric(text, 'sluice_decode_errors_total', `"${e}"`), 0, `${e}: decode errors`);
  }
  assert.equal(
    metric(text, 'sluice_udp_drops_total', `sluice_listener_port="${portB}"`),
    0,
    "kernel drops on the good exporters' socket",
  );
  assert.equal(indexed.get(FLOODER), undefined, 'no documents from the flood');

  // The flood: counted under its exporter and rate-limited.
  const received = metric(text, 'sluice_datagrams_received_total', `"${FLOODER}"`);
  const accepted = metric(text, 'sluice_datagrams_accepted_total', `"${FLOODER}"`);
  const limited = metric(
    text,
    'sluice_datagrams_rejected_total',
    `"${FLOODER}"`,
    'error_type="rate_limited"',
  );
  const rejected = metric(text, 'sluice_datagrams_rejected_total', `"${FLOODER}"`);
  const dropsA = metric(text, 'sluice_udp_drops_total', `sluice_listener_port="${portA}"`);
  t.diagnostic(
    `flood: ${GARBAGE} sent, ${received} received (${accepted} accepted, ${limited} rate-limited), ${dropsA} dropped by the kernel`,
  );
  assert.equal(received, accepted + rejected, 'received = accepted + rejected');
  assert.equal(rejected, limited, 'rejected as rate_limited');
  assert.ok(limited > 0, 'the rate limit kicked in');
  // Token bucket: RATE tokens at the start, RATE more per second.
  assert.ok(
    accepted <= RATE + Math.ceil(RATE * floodSeconds),
    `${accepted} accepted within ${RATE} + ${RATE}/s x ${floodSeconds.toFixed(1)} s`,
  );
  assert.equal(
    metric(text, 'sluice_decode_errors_total', `"${FLOODER}"`),
    accepted,
    'decode errors',
  );
});
