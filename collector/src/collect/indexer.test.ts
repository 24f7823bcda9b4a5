import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PCAPS_DIR, waitFor } from '@sluice/testkit';
import { datagramsFromCaptures } from '../ingest/capture-source.js';
import { JournalReader } from '../ingest/journal/reader.js';
import { JournalWriter } from '../ingest/journal/writer.js';
import { DecodePool } from './decode-pool.js';
import { type DocumentSink, documentId, Indexer, QUIET_MS, READ_BYTES } from './indexer.js';

/** One decode worker with default limits. */
function startPool(instance = 'x'): DecodePool {
  return DecodePool.start(1, {
    templateLimits: {
      maxTemplatesPerExporter: 100,
      maxPendingBytesPerExporter: 1 << 20,
      pendingTtlMs: 60_000,
      maxExporters: 10,
    },
    samplingDefault: undefined,
    samplingOverrides: [],
    templates: undefined,
    instance,
  });
}

/** A sink held in memory, for this unit: confirms items only when told to. */
class HeldSink implements DocumentSink {
  /** Each document's id and position, read out of its bulk line. */
  items: { id: string; position: number }[] = [];
  confirmed = -1;
  addLines(buf: Uint8Array, offsets: Uint32Array, position: number): void {
    for (let j = 0; j + 1 < offsets.length; j++) {
      const line = Buffer.from(buf.subarray(offsets[j], offsets[j + 1])).toString('utf8');
      const action = JSON.parse(line.slice(0, line.indexOf('\n'))) as { create: { _id: string } };
      this.items.push({ id: action.create._id, position });
    }
  }
  async waitForCapacity(): Promise<void> {}
  indexedUpTo(): number {
    return this.confirmed;
  }
  async flush(): Promise<void> {}
  /** When sendNow was called, and how many documents the sink held then. */
  sendNowCalls: { atMs: number; items: number }[] = [];
  sendNow(): void {
    this.sendNowCalls.push({ atMs: Date.now(), items: this.items.length });
  }
}

test('indexer: journal to documents with deterministic ids; checkpoint only past confirmed entries', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-idx-'));
  const w = JournalWriter.open(dir);
  const NF = join(PCAPS_DIR, 'akvorado', 'netflow');
  const positions: number[] = [];
  for (const d of datagramsFromCaptures([
    join(NF, 'template.pcap'),
    join(NF, 'data.pcap'),
    join(NF, 'nfv5.pcap'),
  ])) {
    positions.push(w.append({ ...d, exporterPort: d.exporterPort ?? 0, localPort: 2055 }));
  }
  w.flush();
  const pool = startPool('abc');
  t.after(() => pool.close());
  const sink = new HeldSink();
  const checkpoints: number[] = [];
  const idx = new Indexer(new JournalReader(dir, 0), () => w.flushedHead, pool, sink, {
    onCheckpoint: (p) => checkpoints.push(p),
  });
  idx.start();
  await waitFor(() => (sink.items.length === 4 + 29 ? true : undefined), { what: 'documents' });
  // The template datagram has no documents; the data datagram has 4, v5 has 29.
  assert.equal(sink.items[0]?.id, documentId('abc', positions[1] as number, 0));
  assert.equal(sink.items.at(-1)?.id, documentId('abc', positions[2] as number, 28));
  assert.equal(new Set(sink.items.map((i) => i.id)).size, sink.items.length, 'ids are unique');
  // Nothing confirmed: the checkpoint cannot pass the first entry with documents, and the
  // lag is the age of that datagram.
  assert.equal(idx.safePosition(), positions[1]);
  assert.ok(idx.lagBytes() > 0);
  assert.ok(idx.lagSeconds() > 0, 'the capture is years old');
  sink.confirmed = positions[1] as number;
  assert.equal(idx.safePosition(), positions[2]);
  sink.confirmed = positions[2] as number;
  assert.equal(idx.safePosition(), w.flushedHead, 'everything read is done');
  assert.equal(idx.lagSeconds(), 0);
  assert.equal(idx.lagBytes(), 0);
  assert.equal(await idx.stop(), w.flushedHead);
  w.close();
});

test('indexer: stops promptly even while the sink pushes back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-idx-'));
  const w = JournalWriter.open(dir);
  const pool = startPool();
  t.after(() => pool.close());
  const stuck: DocumentSink = {
    addLines() {},
    waitForCapacity: () => new Promise(() => {}),
    indexedUpTo: () => -1,
    flush: async () => {},
    sendNow() {},
  };
  const idx = new Indexer(new JournalReader(dir, 0), () => w.flushedHead, pool, stuck);
  idx.start();
  assert.equal(await idx.stop(100), 0);
  w.close();
});

test('indexer: reads the journal in steps of READ_BYTES and waits for room before each, so a full sink takes at most one step more', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-idx-'));
  const w = JournalWriter.open(dir);
  const [v5] = [...datagramsFromCaptures([join(PCAPS_DIR, 'akvorado', 'netflow', 'nfv5.pcap')])];
  assert.ok(v5, 'a v5 datagram');
  // Four steps' worth of journal.
  const copies = Math.ceil((4 * READ_BYTES) / v5.bytes.length);
  for (let i = 0; i < copies; i++) {
    w.append({ ...v5, exporterPort: v5.exporterPort ?? 0, localPort: 2055 });
  }
  w.flush();
  const pool = startPool();
  t.after(() => pool.close());
  // Full from the first document on, until released.
  let release: () => void = () => {};
  const room = new Promise<void>((r) => {
    release = r;
  });
  const sink = new HeldSink();
  sink.waitForCapacity = () => (sink.items.length === 0 ? Promise.resolve() : room);
  const idx = new Indexer(new JournalReader(dir, 0), () => w.flushedHead, pool, sink);
  idx.start();
  await waitFor(() => (sink.items.length > 0 ? true : undefined), { what: 'the first step' });
  await new Promise((r) => setTimeout(r, 300));
  const perDatagram = 29;
  // A step may end a little past READ_BYTES (the reader finishes the chunk it read).
  const twoSteps = Math.ceil((2 * READ_BYTES) / v5.bytes.length) * perDatagram;
  assert.ok(
    sink.items.length <= twoSteps,
    `${sink.items.length} documents taken while the sink was full (under two steps: ${twoSteps})`,
  );
  assert.ok(sink.items.length < copies * perDatagram, 'the rest waits in the journal');
  release();
  await waitFor(() => (sink.items.length === copies * perDatagram ? true : undefined), {
    what: 'every document once there is room',
  });
  await idx.stop(100);
  w.close();
});

test('indexer: when decoding fails for good, it reports the failure and still stops promptly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-idx-'));
  const w = JournalWriter.open(dir);
  const [v5] = [...datagramsFromCaptures([join(PCAPS_DIR, 'akvorado', 'netflow', 'nfv5.pcap')])];
  assert.ok(v5);
  w.append({ ...v5, exporterPort: 0, localPort: 2055 });
  w.flush();
  const pool = startPool();
  t.after(() => pool.close());
  (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0]?.terminate();
  await waitFor(() => pool.failure(0), { what: 'the worker gone' });
  const failures: Error[] = [];
  const sink = new HeldSink();
  const idx = new Indexer(new JournalReader(dir, 0), () => w.flushedHead, pool, sink, {
    onFailure: (err) => failures.push(err),
  });
  idx.start();
  await waitFor(() => (failures.length > 0 ? true : undefined), { what: 'the failure reported' });
  assert.match(failures[0]?.message ?? '', /decode worker 0 exited/);
  assert.equal(sink.items.length, 0, 'nothing indexed');
  assert.equal(await idx.stop(100), 0, 'the checkpoint stays before the entry');
  w.close();
});

test('indexer: once the journal has had nothing new for QUIET_MS, the sink is told to send now, once per quiet spell', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-idx-'));
  const w = JournalWriter.open(dir);
  const [v5] = [...datagramsFromCaptures([join(PCAPS_DIR, 'akvorado', 'netflow', 'nfv5.pcap')])];
  assert.ok(v5);
  const append = () => {
    w.append({ ...v5, exporterPort: v5.exporterPort ?? 0, localPort: 2055 });
    w.flush();
  };
  const pool = startPool();
  t.after(() => pool.close());
  const sink = new HeldSink();
  const idx = new Indexer(new JournalReader(dir, 0), () => w.flushedHead, pool, sink);
  idx.start();
  // Input arriving more often than QUIET_MS: the sink batches as it likes.
  const steady = setInterval(() => {
    append();
    idx.notify();
  }, QUIET_MS / 4);
  await new Promise((r) => setTimeout(r, QUIET_MS * 4));
  clearInterval(steady);
  const sentDuringInput = sink.sendNowCalls.filter((c) => c.items > 0).length;
  const lastAppendMs = Date.now();
  await waitFor(() => (sink.sendNowCalls.some((c) => c.atMs >= lastAppendMs) ? true : undefined), {
    what: 'sendNow after the input stopped',
  });
  const after = sink.sendNowCalls.filter((c) => c.atMs >= lastAppendMs);
  assert.equal(after[0]?.items, sink.items.length, 'told to send once everything read was added');
  assert.ok(
    (after[0]?.atMs ?? 0) - lastAppendMs >= QUIET_MS - 50,
    'not before the input was quiet for QUIET_MS',
  );
  assert.equal(sentDuringInput, 0, `told to send ${sentDuringInput} times while input flowed`);
  // A long quiet spell is one: no call per idle turn.
  await new Promise((r) => setTimeout(r, QUIET_MS * 4));
  assert.equal(sink.sendNowCalls.filter((c) => c.atMs >= lastAppendMs).length, 1);
  await idx.stop(100);
  w.close();
});
