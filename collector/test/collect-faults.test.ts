// Fault tests of `sluice collect` against the real Elasticsearch: a collector killed with
// SIGKILL mid-stream and restarted indexes every record that reached the journal exactly
// once; a flood of garbage from one source is counted and does not cost the others.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, freePort, needServer, waitFor } from '@sluice/testkit';
import pino from 'pino';
import { Collector } from '../src/collect/collector.js';
import { resolveConfig, validateConfig } from '../src/config/load.js';
import { FlowDecoder } from '../src/flow/decoder.js';
import { datagramsFromCaptures } from '../src/ingest/capture-source.js';
import type { JournalEntry } from '../src/ingest/journal/format.js';
import { JournalReader } from '../src/ingest/journal/reader.js';
import { CAPTURE_EXPORTERS, countDocuments } from './support/capture-exporters.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Outgoing {
  exporter: string;
  bytes: Uint8Array;
}

/**
 * Every datagram of every exporter, interleaved round-robin (as concurrent exporters);
 * with `rounds` > 1 the set is sent again from other addresses (127.0.R.x), more exporters.
 */
function outgoing(rounds = 1): Outgoing[] {
  const queues = CAPTURE_EXPORTERS.flatMap(([exporter, files]) =>
    Array.from({ length: rounds }, (_, r) =>
      [...datagramsFromCaptures(files)].map((g) => ({
        exporter: exporter.replace(/^127\.0\.0\./, `127.0.${r}.`),
        bytes: g.bytes,
      })),
    ),
  );
  const out: Outgoing[] = [];
  for (let i = 0; queues.some((q) => i < q.length); i++) {
    for (const q of queues) {
      const d = q[i];
      if (d) out.push(d);
    }
  }
  return out;
}

/** Documents the in-process decoder makes of datagrams (one decoder per exporter). */
function documentsOf(datagrams: Iterable<{ exporter: string; bytes: Uint8Array }>): number {
  const decoders = new Map<string, FlowDecoder>();
  let n = 0;
  for (const g of datagrams) {
    let d = decoders.get(g.exporter);
    if (!d) {
      d = new FlowDecoder();
      decoders.set(g.exporter, d);
    }
    n += d.decode({ bytes: g.bytes, exporter: g.exporter, receivedMs: Date.now() }).records.length;
  }
  return n;
}

class Senders {
  private readonly sockets = new Map<string, Socket>();
  constructor(private readonly port: number) {}
  async send(d: { exporter: string; bytes: Uint8Array }): Promise<void> {
    let s = this.sockets.get(d.exporter);
    if (!s) {
      const sock = createSocket('udp4');
      await new Promise<void>((r) => sock.bind({ address: d.exporter, port: 0 }, () => r()));
      this.sockets.set(d.exporter, sock);
      s = sock;
    }
    const sock = s;
    await new Promise<void>((r, j) =>
      sock.send(d.bytes, this.port, '127.0.0.1', (e) => (e ? j(e) : r())),
    );
  }
  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every entry the journal holds, in position order. */
function journalEntries(dir: string): JournalEntry[] {
  const reader = new JournalReader(join(dir, 'journal'), 0);
  const out: JournalEntry[] = [];
  for (;;) {
    const got = reader.read(Number.MAX_SAFE_INTEGER, 64 << 20);
    if (got.length === 0) break;
    out.push(...got);
  }
  assert.equal(reader.stats.corrupt, 0, 'no corrupt entries in closed segments');
  return out;
}

function journalBytes(dir: string): number {
  try {
    return readdirSync(join(dir, 'journal')).reduce(
      (a, f) => a + statSync(join(dir, 'journal', f)).size,
      0,
    );
  } catch {
    return 0;
  }
}

/** `sluice collect` in a child process, as an operator would run it. */
function startCollector(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(["node", "sluice", ...process.argv.slice(1)]);`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', 'collect', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  child.stdout?.resume();
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`collector exited ${code}: ${err}`);
  });
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

test('collect: kill -9 mid-stream and restart: every journaled record indexed exactly once', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluicekill${process.pid}-default`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kill-'));
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const udp = await freePort();
  const http = await freePort();
  const args = [
    '--listen',
    `127.0.0.1:${udp}`,
    '--http',
    `127.0.0.1:${http}`,
    '--data-dir',
    dir,
    '--elasticsearch',
    es.url,
    '--data-stream',
    dataStream,
  ];
  // The rest of the settings through the environment (SLUICE_* overrides).
  const env = {
    SLUICE_WORKERS: '2',
    SLUICE_LOG_LEVEL: 'warn',
    SLUICE_RECEIVE_BUFFER_BYTES: '4MiB',
    SLUICE_ELASTICSEARCH_BULK_INTERVAL: '100ms',
    SLUICE_JOURNAL_FSYNC: 'never',
  };
  const run = async () => {
    const child = startCollector(args, env);
    children.push(child);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`collector exited ${child.exitCode}`);
        const r = await fetch(`http://127.0.0.1:${http}/healthz`).catch(() => undefined);
        return r?.ok ? true : undefined;
      },
      { what: 'the collector to listen', timeoutMs: 60_000, intervalMs: 100 },
    );
    return child;
  };

  const all = outgoing(10);
  const cut = Math.floor(all.length / 2);
  assert.ok(cut >= 50, `${all.length} datagrams`);

  const first = await run();
  const before = new Senders(udp);
  for (const d of all.slice(0, cut)) {
    await before.send(d);
    await sleep(3);
  }
  before.close();
  await waitFor(() => (journalBytes(dir) > 0 ? true : undefined), {
    what: 'datagrams in the journal',
    timeoutMs: 10_000,
  });
  // Killed once indexing has begun, while the next datagrams are on their way.
  await waitFor(async () => ((await countDocuments(client, dataStream)) > 0 ? true : undefined), {
    what: 'the first documents',
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  const lost = new Senders(udp);
  for (const d of all.slice(cut, cut + 5)) await lost.send(d);
  first.kill('SIGKILL');
  for (const d of all.slice(cut + 5, cut + 10)) await lost.send(d);
  lost.close();
  await exited(first);
  assert.equal(first.signalCode, 'SIGKILL');
  const heldAtKill = journalEntries(dir).length;
  assert.ok(heldAtKill > 0 && heldAtKill <= cut + 10, `${heldAtKill} of ${cut + 10} journaled`);

  // Restart on the same data dir; the rest of the stream arrives.
  const second = await run();
  const after = new Senders(udp);
  for (const d of all.slice(cut + 10)) {
    await after.send(d);
    await sleep(3);
  }
  after.close();
  await sleep(1_500);
  const want = documentsOf(journalEntries(dir));
  assert.ok(want > 0);
  await waitFor(
    async () => ((await countDocuments(client, dataStream)) === want ? true : undefined),
    {
      what: `${want} documents (what the journal holds) in ${dataStream}`,
      timeoutMs: 60_000,
      intervalMs: 500,
    },
  );
  second.kill('SIGTERM');
  await exited(second);

  // The journal is final now: the count matches it exactly, and no id repeats.
  const entries = journalEntries(dir);
  assert.ok(entries.length >= heldAtKill + (all.length - cut - 10) * 0.9, 'the rest was journaled');
  assert.equal(documentsOf(entries), want, 'nothing reached the journal after the count');
  assert.equal(await countDocuments(client, dataStream), want);
  const ids = new Set<string>();
  const page = await client.search({
    index: dataStream,
    size: 10_000,
    _source: false,
    query: { match_all: {} },
  });
  for (const h of page.hits.hits) if (h._id !== undefined) ids.add(h._id);
  assert.equal(ids.size, want, 'distinct ids = documents');
});

test('collect: a garbage flood from one source is counted and does not cost the others', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceflood${process.pid}-default`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-flood-'));
  t.after(async () => {
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = resolveConfig(
    validateConfig({
      listen: [{ port: 0, address: '127.0.0.1' }],
      data_dir: dir,
      workers: 2,
      http: { listen: '127.0.0.1:0' },
      receive_buffer_bytes: '8MiB',
      elasticsearch: { url: es.url, data_stream: dataStream, bulk_interval: 200 },
      journal: { fsync: 'never' },
    }),
  );
  const c = await Collector.start(config, pino({ level: 'silent' }));
  t.after(() => c.stop());
  const port = c.ports[0] as number;

  const good = outgoing();
  const want = documentsOf(good);
  const GARBAGE = 20_000;
  // Random bytes whose first byte is no version any format uses (0xEE..).
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    return seed >>> 16;
  };
  const flood = (async () => {
    const s = new Senders(port);
    for (let i = 0; i < GARBAGE; i++) {
      const b = new Uint8Array(24 + (random() % 200));
      for (let k = 0; k < b.length; k++) b[k] = random() & 0xff;
      b[0] = 0xee;
      await s.send({ exporter: '127.0.0.9', bytes: b });
      if (i % 200 === 0) await sleep(1);
    }
    s.close();
  })();
  const exporters = (async () => {
    const s = new Senders(port);
    for (const d of good) {
      await s.send(d);
      await sleep(3);
    }
    s.close();
  })();
  await Promise.all([flood, exporters]);

  await waitFor(
    async () => ((await countDocuments(client, dataStream)) === want ? true : undefined),
    {
      what: `the good exporters' ${want} documents`,
      timeoutMs: 60_000,
      intervalMs: 500,
    },
  );
  const sum = (text: string, metric: string, exporter: string) =>
    [...text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\d+)`, 'gm'))]
      .filter((m) => (m[1] ?? '').includes(`"${exporter}"`))
      .reduce((a, m) => a + Number(m[2]), 0);
  const metrics = await waitFor(
    async () => {
      const text = await (await fetch(`${c.apiUrl}/metrics`)).text();
      const accepted = sum(text, 'sluice_datagrams_accepted_total', '127.0.0.9');
      const errors = sum(text, 'sluice_decode_errors_total', '127.0.0.9');
      return accepted > 0 && errors === accepted ? { text, accepted, errors } : undefined;
    },
    { what: 'every garbage datagram counted as a decode error', timeoutMs: 30_000 },
  );
  // Some datagrams of a flood may be dropped by the kernel; most arrive.
  assert.ok(metrics.accepted >= GARBAGE * 0.5, `${metrics.accepted} garbage datagrams accepted`);
  for (const [exporter] of CAPTURE_EXPORTERS) {
    assert.equal(sum(metrics.text, 'sluice_decode_errors_total', exporter), 0, exporter);
  }
  await sleep(500);
  assert.equal(await countDocuments(client, dataStream), want, 'no documents from the garbage');
});
