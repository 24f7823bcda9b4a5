import type { Worker } from 'node:worker_threads';
import type { ExporterStats } from '../flow/decoder.js';
import type { JournalEntry } from '../ingest/journal/format.js';
import type { FlowTotalsTable } from '../metrics/flow-tuples.js';
import type { TemplateSnapshot } from '../protocol/templates/store.js';
import { spawnThread } from '../threads/spawn.js';
import { BufferSpares } from './buffer-spares.js';
import { DECODE_WORKER_LIMITS } from './decode-limits.js';
import type { DecodeRequest, FromWorker, ToWorker, WorkerInit } from './messages.js';

/** FNV-1a: a stable, cheap spread of exporters over workers. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The documents of one journal entry, as bulk lines. */
export interface EntryLines {
  /** The buffer its worker transferred (shared by the batch; not a copy). */
  buf: Buffer;
  /** Line j is `buf[offsets[j], offsets[j + 1])`; length documents + 1. */
  offsets: Uint32Array;
}

export interface DecodedBatch {
  /** Per entry, in the order the entries were given. */
  lines: EntryLines[];
  aggregates: FlowTotalsTable[];
  stats: [string, ExporterStats][];
}

interface Pending {
  resolve: (msg: FromWorker) => void;
  reject: (err: Error) => void;
  /** The worker asked. */
  worker: number;
}

/**
 * Request buffers kept for reuse, in bytes: a few batches' worth (a batch is about the
 * indexer's read step, 64 KiB, and at most one datagram more).
 */
const MAX_SPARE_REQUEST_BYTES = 1024 * 1024;
/** Request buffers are sized in these steps, so that a spare fits the next batches. */
const REQUEST_ROUNDING = 64 * 1024;

/**
 * Decoding in worker threads. Every datagram of one exporter goes to the same worker,
 * so that worker alone holds the exporter's templates and decodes its datagrams in
 * journal order: template state stays coherent without locks.
 */
export class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  /**
   * Why a worker is gone (it threw at load, crashed, or exited). Its requests fail at
   * once instead of waiting forever for an answer that cannot come: a silent hang would
   * stop indexing with nothing in the logs, and a graceful stop would wait on it too.
   */
  private readonly failed: (Error | undefined)[] = [];
  private closing = false;
  private nextId = 1;
  /**
   * Reply buffers whose documents may still be waiting to be indexed: handed back to
   * their worker by {@link release} once the last of them is (see SpareBuffer).
   */
  private held: { last: number; buffer: ArrayBuffer; worker: number }[] = [];
  /** Request buffers the workers handed back, to pack later batches into. */
  private readonly spareRequests = new BufferSpares(MAX_SPARE_REQUEST_BYTES, REQUEST_ROUNDING);

  private constructor(
    readonly size: number,
    private readonly onStats: ((s: [string, ExporterStats][]) => void) | undefined,
  ) {}

  /**
   * `onStats` receives the stats a worker reports on its own (after expiring held data:
   * template misses); the stats of decoded batches come with the batch instead.
   */
  static start(
    size: number,
    init: WorkerInit,
    onStats?: (s: [string, ExporterStats][]) => void,
  ): DecodePool {
    const pool = new DecodePool(size, onStats);
    for (let i = 0; i < size; i++) {
      const w = spawnThread(import.meta.url, 'decode-worker', {
        resourceLimits: DECODE_WORKER_LIMITS,
      });
      w.on('message', (msg: FromWorker) => pool.settle(msg));
      w.on('error', (err) => pool.fail(i, new Error(`decode worker ${i} failed: ${err.message}`)));
      w.on('exit', (code) => {
        if (!pool.closing) pool.fail(i, new Error(`decode worker ${i} exited (code ${code})`));
      });
      // Each worker starts from the saved templates of its own exporters only.
      const templates = init.templates
        ? {
            ...init.templates,
            exporters: init.templates.exporters.filter((e) => hash(e.exporter) % size === i),
          }
        : undefined;
      const msg: ToWorker = { type: 'init', init: { ...init, templates } };
      w.postMessage(msg);
      pool.workers.push(w);
    }
    return pool;
  }

  private settle(msg: FromWorker): void {
    if (msg.type === 'stats') {
      this.onStats?.(msg.stats);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.type === 'error') p.reject(new Error(`decode worker: ${msg.message}`));
    else p.resolve(msg);
  }

  /** Marks worker `w` gone and fails what it was asked. */
  private fail(w: number, err: Error): void {
    this.failed[w] ??= err;
    for (const [id, p] of this.pending) {
      if (p.worker !== w) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }

  /** Why worker `w` is gone, or undefined while it runs. */
  failure(w: number): Error | undefined {
    return this.failed[w];
  }

  private request(
    w: number,
    build: (id: number) => ToWorker,
    transfer: ArrayBuffer[] = [],
  ): Promise<FromWorker> {
    const failed = this.failed[w];
    if (failed) return Promise.reject(failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      (this.workers[w] as Worker).postMessage(build(id), transfer);
    });
  }

  workerFor(exporter: string): number {
    return hash(exporter) % this.size;
  }

  async decode(entries: readonly JournalEntry[]): Promise<DecodedBatch> {
    const groups: number[][] = this.workers.map(() => []);
    entries.forEach((e, i) => {
      groups[this.workerFor(e.exporter)]?.push(i);
    });
    const lines: EntryLines[] = new Array(entries.length);
    const aggregates: FlowTotalsTable[] = [];
    const stats: [string, ExporterStats][] = [];
    await Promise.all(
      groups.map(async (idx, w) => {
        if (idx.length === 0) return;
        let total = 0;
        for (const i of idx) total += (entries[i] as JournalEntry).bytes.length;
        const data = new Uint8Array(this.spareRequests.take(total), 0, total);
        const offsets: number[] = [0];
        let off = 0;
        for (const i of idx) {
          const b = (entries[i] as JournalEntry).bytes;
          data.set(b, off);
          off += b.length;
          offsets.push(off);
        }
        const reply = await this.request(
          w,
          (id): DecodeRequest => ({
            type: 'decode',
            id,
            positions: idx.map((i) => (entries[i] as JournalEntry).position),
            exporters: idx.map((i) => (entries[i] as JournalEntry).exporter),
            exporterPorts: idx.map((i) => (entries[i] as JournalEntry).exporterPort),
            receivedMs: idx.map((i) => (entries[i] as JournalEntry).receivedMs),
            offsets,
            data: data.buffer,
          }),
          [data.buffer],
        );
        if (reply.type !== 'decoded') return;
        this.spareRequests.keep(reply.request);
        const { bytes, docOffsets, docCounts } = reply;
        const buf = Buffer.from(bytes);
        let doc = 0;
        let last = -1;
        for (let k = 0; k < idx.length; k++) {
          const n = docCounts[k] as number;
          if (n > 0) last = (entries[idx[k] as number] as JournalEntry).position;
          lines[idx[k] as number] = { buf, offsets: docOffsets.subarray(doc, doc + n + 1) };
          doc += n;
        }
        if (last < 0) this.giveBack(w, bytes);
        else this.held.push({ last, buffer: bytes, worker: w });
        aggregates.push(...reply.aggregates);
        stats.push(...reply.stats);
      }),
    );
    return { lines, aggregates, stats };
  }

  /**
   * Hands back the reply buffers whose documents are all done: `done` is the sink's
   * checkpoint (every document of an entry at or before it is indexed, a duplicate or
   * dead-lettered, so no view into those buffers is read again).
   */
  release(done: number): void {
    if (this.held.length === 0 || done < 0) return;
    const keep: typeof this.held = [];
    for (const h of this.held) {
      if (h.last <= done) this.giveBack(h.worker, h.buffer);
      else keep.push(h);
    }
    this.held = keep;
  }

  /** Buffers held for documents not yet indexed, and their bytes. */
  heldBuffers(): { count: number; bytes: number } {
    let bytes = 0;
    for (const h of this.held) bytes += h.buffer.byteLength;
    return { count: this.held.length, bytes };
  }

  private giveBack(w: number, buffer: ArrayBuffer): void {
    if (this.failed[w] || this.closing) return;
    const msg: ToWorker = { type: 'spare', buffer };
    (this.workers[w] as Worker).postMessage(msg, [buffer]);
  }

  /** Every worker's templates, merged (each exporter lives in one worker). */
  async snapshot(): Promise<TemplateSnapshot> {
    const parts = await Promise.all(
      this.workers.map((_, w) => this.request(w, (id) => ({ type: 'snapshot', id }))),
    );
    const exporters = parts.flatMap((p) => (p.type === 'snapshot' ? p.snapshot.exporters : []));
    return { format: 1, exporters };
  }

  expire(nowMs: number): void {
    for (const w of this.workers) w.postMessage({ type: 'expire', nowMs } satisfies ToWorker);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
