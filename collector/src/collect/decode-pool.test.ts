import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PCAPS_DIR } from '@sluice/testkit';
import { Bytes, ipfixMessage, set } from '../../test/support/wire.js';
import type { ExporterStats } from '../flow/decoder.js';
import { FlowDecoder } from '../flow/decoder.js';
import { serializeDocument, toDocument } from '../flow/document.js';
import { datagramsFromCaptures } from '../ingest/capture-source.js';
import type { JournalEntry } from '../ingest/journal/format.js';
import { TOTALS, TOTALS_COLUMNS } from '../metrics/flow-tuples.js';
import { type DecodedBatch, DecodePool } from './decode-pool.js';
import { documentId } from './indexer.js';
import type { WorkerInit } from './messages.js';

/** A worker's start-up: roomy template limits unless `limits` says otherwise. */
function workerInit(limits: Partial<WorkerInit['templateLimits']> = {}): WorkerInit {
  return {
    templateLimits: {
      maxTemplatesPerExporter: 4096,
      maxPendingBytesPerExporter: 1 << 20,
      pendingTtlMs: 60_000,
      maxExporters: 100,
      ...limits,
    },
    samplingDefault: undefined,
    samplingOverrides: [],
    templates: undefined,
    instance: 'test',
  };
}

/**
 * Each entry's documents read back out of its bulk lines as [_id, document text]; checks
 * every line's shape on the way (action line, document, one line break each).
 */
function documentsOf(batch: DecodedBatch): [string, string][][] {
  return batch.lines.map(({ buf, offsets }) => {
    const docs: [string, string][] = [];
    for (let j = 0; j + 1 < offsets.length; j++) {
      const line = buf.toString('utf8', offsets[j], offsets[j + 1]);
      const nl = line.indexOf('\n');
      assert.equal(
        line.indexOf('\n', nl + 1),
        line.length - 1,
        'two line breaks, the last at the end',
      );
      const action = JSON.parse(line.slice(0, nl)) as { create: { _id: string } };
      assert.deepEqual(Object.keys(action), ['create']);
      docs.push([action.create._id, line.slice(nl + 1, -1)]);
    }
    return docs;
  });
}

const NF = join(PCAPS_DIR, 'akvorado', 'netflow');
const SF = join(PCAPS_DIR, 'akvorado', 'sflow');

test('decode pool: worker threads produce exactly what the in-process decoder produces', async (t) => {
  const files = [
    join(NF, 'template.pcap'),
    join(NF, 'data.pcap'),
    join(NF, 'nfv5.pcap'),
    join(NF, 'ipfixprobe-templates.pcap'),
    join(NF, 'ipfixprobe-data.pcap'),
    join(SF, 'data-1140.pcap'),
  ];
  // Spread the same datagrams over several pretend exporters so more than one worker works.
  const entries: JournalEntry[] = [];
  let position = 0;
  for (const exporter of ['192.0.2.1', '192.0.2.2', '2001:db8::3', '198.51.100.4']) {
    for (const d of datagramsFromCaptures(files)) {
      entries.push({
        ...d,
        exporter,
        localPort: 2055,
        position,
        size: 1,
        exporterPort: d.exporterPort ?? 0,
      });
      position += 100;
    }
  }
  const inProcess = new FlowDecoder();
  let wantBytes = 0;
  const want = entries.map((e) =>
    inProcess.decode(e).records.map((r) => {
      if (r.kind === 'flow') {
        const rate = r.samplingRate !== undefined && r.samplingRate >= 1 ? r.samplingRate : 1;
        wantBytes += ((r.bytes ?? 0) + (r.reverseBytes ?? 0)) * rate;
      }
      return serializeDocument(toDocument(r));
    }),
  );

  const pool = DecodePool.start(3, workerInit());
  t.after(() => pool.close());
  assert.ok(
    new Set(['192.0.2.1', '192.0.2.2', '2001:db8::3', '198.51.100.4'].map((e) => pool.workerFor(e)))
      .size > 1,
  );
  // In two batches, so template state must persist in the workers between batches.
  const half = Math.floor(entries.length / 2);
  const a = await pool.decode(entries.slice(0, half));
  const b = await pool.decode(entries.slice(half));
  // Documents come back as bulk lines, one buffer per batch and worker: each must hold
  // exactly the text the in-process decoder and document builder give, under the
  // document id of its entry's position and its index.
  const got = [...documentsOf(a), ...documentsOf(b)];
  assert.equal(got.length, want.length);
  assert.deepEqual(
    got.map((docs) => docs.map(([, text]) => text)),
    want,
  );
  assert.deepEqual(
    got.map((docs) => docs.map(([id]) => id)),
    entries.map((e, i) => (want[i] as string[]).map((_, k) => documentId('test', e.position, k))),
  );
  // Flow totals: one row per tuple; records and sampling-scaled bytes add up to what the
  // in-process decoder's flow records hold.
  const column = (c: number) =>
    [...a.aggregates, ...b.aggregates].reduce((n, t) => {
      for (let at = 0; at < t.rows.length; at += TOTALS_COLUMNS) n += t.rows[at + c] as number;
      return n;
    }, 0);
  const expectedFlows = want
    .flat()
    .filter((d) => d.includes('"netflow_flow"') || d.includes('"sflow_flow"')).length;
  assert.equal(column(TOTALS.records), expectedFlows);
  assert.ok(expectedFlows > 0);
  assert.equal(column(TOTALS.bytes), wantBytes);
  assert.ok(wantBytes > 0);
  // Templates from every worker come back in one snapshot, and restore into a new pool.
  const snap = await pool.snapshot();
  assert.ok(snap.exporters.length >= 8);
});

test('decode pool: a worker that is gone fails its requests at once instead of leaving them waiting', async (t) => {
  const pool = DecodePool.start(
    1,
    workerInit({
      maxTemplatesPerExporter: 10,
      maxPendingBytesPerExporter: 1 << 16,
      pendingTtlMs: 1000,
      maxExporters: 10,
    }),
  );
  t.after(() => pool.close());
  const [d] = [...datagramsFromCaptures([join(NF, 'nfv5.pcap')])];
  assert.ok(d);
  const entry: JournalEntry = {
    ...d,
    exporter: '192.0.2.1',
    exporterPort: 0,
    localPort: 2055,
    position: 0,
    size: 1,
  };
  assert.equal(documentsOf(await pool.decode([entry]))[0]?.length, 29, 'the worker decodes');
  // The worker dies (as when it crashes, or cannot load its code).
  const worker = (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0];
  await worker?.terminate();
  await new Promise((r) => setTimeout(r, 50));
  assert.match(pool.failure(0)?.message ?? '', /decode worker 0 exited/);
  await assert.rejects(pool.decode([entry]), /decode worker 0 exited/, 'rejected, not pending');
});

test('decode pool: template misses found when held data expires are reported at once, not at the next datagram', async (t) => {
  const reports: [string, ExporterStats][][] = [];
  const pool = DecodePool.start(
    1,
    workerInit({
      maxTemplatesPerExporter: 10,
      maxPendingBytesPerExporter: 1 << 16,
      pendingTtlMs: 500,
      maxExporters: 10,
    }),
    (s) => reports.push(s),
  );
  t.after(() => pool.close());
  // Two IPFIX messages whose data set (template 256) has no template: held, not decoded.
  const data = set(256, new Bytes().ip4('10.0.0.1').ip4('10.0.0.2').u64(1000n).u64(10n).bytes());
  const entries: JournalEntry[] = [0, 1].map((i) => ({
    bytes: ipfixMessage([data]),
    exporter: '192.0.2.9',
    exporterPort: 4739,
    localPort: 4739,
    receivedMs: 1_000,
    position: i * 100,
    size: 1,
  }));
  const batch = await pool.decode(entries);
  assert.deepEqual(documentsOf(batch), [[], []], 'held: no documents yet');
  assert.equal(batch.stats[0]?.[1].errors.template_missing ?? 0, 0, 'not missing yet');

  // Not yet past the TTL: nothing expires, nothing is reported (a snapshot asked after
  // the expiry comes back after anything the expiry would have posted).
  pool.expire(1_400);
  await pool.snapshot();
  assert.equal(reports.length, 0);

  // Past the TTL, with no datagram from the exporter after it: reported on its own,
  // before the answer to a request made after the expiry (one worker answers in order).
  pool.expire(1_600);
  await pool.snapshot();
  assert.equal(reports.length, 1);
  const [exporter, stats] = reports[0]?.[0] ?? [];
  assert.equal(exporter, '192.0.2.9');
  assert.equal(stats?.errors.template_missing, 2);
});

test('decode pool: reply buffers go back to their worker only once their documents are done', async (t) => {
  const files = [join(NF, 'template.pcap'), join(NF, 'data.pcap')];
  const entries: JournalEntry[] = [];
  let position = 0;
  // Three rounds of the same capture: templates first each time, so every round decodes.
  for (let round = 0; round < 3; round++) {
    for (const d of datagramsFromCaptures(files)) {
      entries.push({
        ...d,
        exporter: '192.0.2.9',
        localPort: 2055,
        position,
        size: 1,
        exporterPort: d.exporterPort ?? 0,
      });
      position += 100;
    }
  }
  const third = entries.length / 3;
  const [r1, r2, r3] = [0, 1, 2].map((i) => entries.slice(i * third, (i + 1) * third)) as [
    JournalEntry[],
    JournalEntry[],
    JournalEntry[],
  ];
  const pool = DecodePool.start(1, workerInit());
  t.after(() => pool.close());
  const texts = (b: DecodedBatch) => documentsOf(b).flat();
  const a = await pool.decode(r1);
  const want = texts(a);
  assert.ok(want.length > 0);
  const lastA = Math.max(
    ...r1.filter((_, i) => (a.lines[i]?.offsets.length ?? 0) > 1).map((e) => e.position),
  );
  assert.equal(pool.heldBuffers().count, 1);

  // Not everything of batch 1 is done: its buffer stays, its documents stay readable.
  pool.release(lastA - 1);
  assert.equal(pool.heldBuffers().count, 1);
  const b = await pool.decode(r2);
  assert.deepEqual(texts(a), want, 'a held batch is never overwritten');
  const sameDocuments = (x: [string, string][], y: [string, string][]) =>
    assert.deepEqual(
      x.map(([, text]) => text),
      y.map(([, text]) => text),
    );
  sameDocuments(texts(b), want);

  // Batch 1 done: its buffer leaves this thread (the views here are detached) ...
  pool.release(lastA);
  assert.equal(pool.heldBuffers().count, 1, 'batch 2 is still held');
  assert.equal(a.lines[r1.length - 1]?.buf.byteLength, 0, 'handed back, not copied');
  sameDocuments(texts(b), want);
  // ... and the next batch, written into it, is still exactly right.
  const c = await pool.decode(r3);
  sameDocuments(texts(c), want);
  pool.release(Number.MAX_SAFE_INTEGER);
  assert.deepEqual(pool.heldBuffers(), { count: 0, bytes: 0 });
});
