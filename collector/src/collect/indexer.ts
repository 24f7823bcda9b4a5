import type { ExporterStats } from '../flow/decoder.js';
import type { JournalReader } from '../ingest/journal/reader.js';
import type { FlowTotalsTable } from '../metrics/flow-tuples.js';
import type { DecodePool } from './decode-pool.js';

/**
 * Journal bytes read (and decoded) per step. Documents are about 25 times the bytes of
 * the datagrams they come from (30 records of ~1.6 KB JSON from a ~1.7 KB datagram), and
 * the sink's memory bound is only checked between steps, so a step's documents all
 * arrive at once. Measured with bench/ingest's stream against an Elasticsearch stub that
 * answers at once (100k records at 50k/s, one worker): 2 MiB steps (~60 MB of documents)
 * 12.5k records/s, 23.6 CPU-s per million, 538 MiB peak RSS; 256 KiB 14.4k/s, 25.2 s,
 * 395 MiB; 64 KiB 18.2k/s, 20.4 s, 264 MiB (smaller steps pipeline better between the
 * worker and the main thread and leave V8 less garbage). The reader finishes the chunk it
 * reads (at least 70 kB), so smaller values change little.
 */
export const READ_BYTES = 64 * 1024;

/**
 * How long new journal data may wait for more before it is read, when less than a step
 * waits. Every step costs the same fixed work whatever its size (messages to and from
 * the worker, its stats and flow totals, a checkpoint): at 10,000 records/s, reading every
 * 20 ms journal flush made steps of ~7 datagrams and that fixed work a third of the
 * collector's CPU. 100 ms is well inside the bulk interval (1 s) that follows anyway.
 */
export const GATHER_MS = 100;

/**
 * How long the journal must have had nothing new before the sink is told to send what it
 * holds (`sendNow`). Why: the sink sends a batch when it is full or when its interval
 * (1 s) has passed, so the end of a burst waited up to the interval with Elasticsearch
 * idle. Steady input, even a few datagrams a second, never goes quiet this long, so its
 * batching is unchanged.
 */
export const QUIET_MS = 200;

/** Where documents go: the Elasticsearch bulk indexer, seen through what the indexer needs. */
export interface DocumentSink {
  /**
   * The documents of the journal entry at `position`, as bulk lines written by a decode
   * worker (`{"create":{"_id":"<documentId>"}}\n`, document, `\n`): line j is
   * `buf[offsets[j], offsets[j + 1])`. The sink keeps the bytes until they are indexed.
   */
  addLines(buf: Uint8Array, offsets: Uint32Array, position: number): void;
  /** Resolves when the sink can take more (back-pressure: records wait in the journal). */
  waitForCapacity(): Promise<void>;
  /** Every item with a position <= this is done (indexed, duplicate or dead-lettered); -1 if none. */
  indexedUpTo(): number;
  flush(): Promise<void>;
  /** Sends what is held now instead of when a batch fills or the interval passes. */
  sendNow(): void;
}

export interface IndexerHooks {
  onAggregates?(a: readonly FlowTotalsTable[]): void;
  onStats?(s: readonly [string, ExporterStats][]): void;
  /** Called with the new safe position whenever it advances. */
  onCheckpoint?(position: number): void;
  /**
   * Indexing stopped on an error it cannot get past (a decode worker gone). What was not
   * indexed stays in the journal, for the next start.
   */
  onFailure?(err: Error): void;
}

/**
 * Deterministic document ids: the collector instance, the journal position of the
 * datagram and the record's index in it. A replay of the same journal range produces
 * the same ids, and Elasticsearch refuses the duplicates (409 on create). The decode
 * workers write it straight into each document's bulk line (decode-worker.ts); the decode
 * pool's tests hold the two equal.
 */
export function documentId(instance: string, position: number, index: number): string {
  return `${instance}-${position.toString(36)}-${index.toString(36)}`;
}

/**
 * Follows the journal from the checkpoint: reads entries, decodes them in the worker
 * pool, hands the documents to the sink, and computes the checkpoint (the first entry
 * not yet fully indexed). When the sink pushes back, reading stops: records wait on disk.
 */
export class Indexer {
  private stopped = false;
  private signalStop: () => void = () => {};
  private readonly stopSignal = new Promise<void>((resolve) => {
    this.signalStop = resolve;
  });
  private outstanding: number[] = [];
  /** Arrival times of the outstanding entries, index-aligned. */
  private outstandingMs: number[] = [];
  /** When the indexer last had nothing left to index. */
  private caughtUpMs = Date.now();
  /** When a read last found journal data. */
  private lastDataMs = Date.now();
  /** The sink was told to send since that read (once per quiet spell). */
  private quietSent = false;
  private head = 0;
  private wake: (() => void) | undefined;
  private gatherTimer: NodeJS.Timeout | undefined;
  private loopDone: Promise<void> | undefined;
  private lastSafe = -1;
  entriesRead = 0;
  documents = 0;
  /** Why the loop stopped on its own, if it did. */
  failure: Error | undefined;

  constructor(
    private readonly reader: JournalReader,
    private readonly flushedHead: () => number,
    private readonly pool: DecodePool,
    private readonly sink: DocumentSink,
    private readonly hooks: IndexerHooks = {},
  ) {
    this.head = reader.position;
  }

  /**
   * Nudges the loop (new journal data was flushed). At once when a full step waits;
   * otherwise within GATHER_MS, so that at low rates a step gathers several journal
   * flushes (20 ms apart) instead of decoding a handful of datagrams each time.
   */
  notify(): void {
    if (this.wake === undefined) return;
    if (this.flushedHead() - this.head >= READ_BYTES) {
      this.wake();
      return;
    }
    this.gatherTimer ??= setTimeout(() => {
      this.gatherTimer = undefined;
      this.wake?.();
    }, GATHER_MS);
  }

  start(): void {
    this.loopDone = this.loop().catch((err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.hooks.onFailure?.(this.failure);
    });
  }

  private async idle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      // The sink may wait a long time (Elasticsearch down): stopping must not.
      await Promise.race([this.sink.waitForCapacity(), this.stopSignal]);
      if (this.stopped) break;
      const entries = this.reader.read(this.flushedHead(), READ_BYTES);
      if (entries.length === 0) {
        this.advance();
        if (!this.quietSent && Date.now() - this.lastDataMs >= QUIET_MS) {
          this.quietSent = true;
          this.sink.sendNow();
        }
        await this.idle(QUIET_MS);
        continue;
      }
      this.lastDataMs = Date.now();
      this.quietSent = false;
      const batch = await this.pool.decode(entries);
      this.hooks.onAggregates?.(batch.aggregates);
      this.hooks.onStats?.(batch.stats);
      entries.forEach((e, i) => {
        const lines = batch.lines[i];
        const n = lines === undefined ? 0 : lines.offsets.length - 1;
        if (lines === undefined || n <= 0) return;
        this.outstanding.push(e.position);
        this.outstandingMs.push(e.receivedMs);
        this.sink.addLines(lines.buf, lines.offsets, e.position);
        this.documents += n;
      });
      this.entriesRead += entries.length;
      this.head = this.reader.position;
      this.advance();
    }
  }

  /** The checkpoint: every journal entry before it is fully done. */
  safePosition(): number {
    const done = this.sink.indexedUpTo();
    let n = 0;
    while (n < this.outstanding.length && (this.outstanding[n] as number) <= done) n++;
    if (n > 0) {
      this.outstanding.splice(0, n);
      this.outstandingMs.splice(0, n);
    }
    return this.outstanding[0] ?? this.head;
  }

  private advance(): void {
    this.pool.release(this.sink.indexedUpTo());
    const safe = this.safePosition();
    if (safe !== this.lastSafe) {
      this.lastSafe = safe;
      this.hooks.onCheckpoint?.(safe);
    }
  }

  /** Journal bytes read but not yet confirmed indexed, plus bytes not read yet. */
  lagBytes(): number {
    return this.flushedHead() - this.safePosition();
  }

  /**
   * How far indexing is behind, in seconds: the age of the oldest datagram read but not
   * confirmed indexed; when everything read is done but unread journal remains, the time
   * since the indexer was last caught up; 0 when nothing waits.
   */
  lagSeconds(nowMs = Date.now()): number {
    const safe = this.safePosition();
    const oldest = this.outstandingMs[0];
    if (oldest !== undefined) return Math.max(0, (nowMs - oldest) / 1000);
    if (safe >= this.flushedHead()) {
      this.caughtUpMs = nowMs;
      return 0;
    }
    return Math.max(0, (nowMs - this.caughtUpMs) / 1000);
  }

  /**
   * Stops reading, flushes what was handed to the sink (waiting at most `timeoutMs`),
   * and returns the final checkpoint.
   */
  async stop(timeoutMs = 10_000): Promise<number> {
    this.stopped = true;
    this.signalStop();
    if (this.gatherTimer !== undefined) clearTimeout(this.gatherTimer);
    this.wake?.();
    await this.loopDone;
    this.reader.close();
    await Promise.race([this.sink.flush(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.advance();
    return this.safePosition();
  }
}
