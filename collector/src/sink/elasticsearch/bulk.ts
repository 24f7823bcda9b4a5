/**
 * The bulk indexer: documents in, `_bulk` requests out, with a checkpoint.
 *
 * Each request carries `create` actions with the caller's deterministic `_id`, so a
 * document sent twice (a replay, a retry after a timeout whose request did land) is
 * answered 409 and counted as a duplicate, never stored twice. Per document:
 *
 * - 201 created, 409 already there: done;
 * - 429, 5xx, 408, 401/403, index missing or closed, and whole-request failures
 *   (connection refused or reset, timeouts, 429/5xx): queued again and retried with
 *   exponential backoff and full jitter, for as long as the indexer runs;
 * - any other 4xx (the document's content: mapping conflicts, unparsable JSON): written
 *   to the dead-letter file with the reason, then done.
 *
 * The checkpoint ({@link BulkIndexer.indexedUpTo}, `onDone`) is the highest journal
 * position P such that every document at or before P is done, whatever order requests
 * complete in. Memory is bounded: past `maxQueuedBytes`, `add` returns false and
 * {@link BulkIndexer.waitForCapacity} waits; records wait in the journal instead.
 */
import { Readable } from 'node:stream';
import type { Client } from '@elastic/elasticsearch';
import { errors } from '@elastic/elasticsearch';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import {
  asBytes,
  type BodyLine,
  bulkBodyParts,
  hasLineBreak,
  lineParts,
  renderLine,
  sourceText,
} from './bulk-body.js';
import {
  type DeadLetterEntry,
  type DeadLetterError,
  DeadLetterFile,
  type DeadLetterOptions,
  entrySource,
} from './dead-letter.js';
import { DEFAULT_DATA_STREAM } from './template.js';

/** One document for the data stream. */
export interface BulkItem {
  /** Deterministic `_id` (derived from the journal position). */
  id: string;
  /**
   * The document as UTF-8 JSON bytes (the decode workers' output: kept as given, a view is
   * fine) or as JSON text (`serializeDocument`; encoded once here).
   */
  source: Uint8Array | string;
  /** Journal position; non-decreasing in the order items are added. */
  position: bigint;
}

/** Why documents were sent again. */
export type RetryCause =
  | 'rejected_429'
  | 'server_5xx'
  | 'connection'
  | 'timeout'
  | 'auth'
  | 'other'
  | 'dead_letter_write';

export const RETRY_CAUSES: readonly RetryCause[] = [
  'rejected_429',
  'server_5xx',
  'connection',
  'timeout',
  'auth',
  'other',
  'dead_letter_write',
];

/** What one `_bulk` request did (the `onBulk` hook; feed a latency histogram with it). */
export interface BulkEvent {
  /** Wall time of the HTTP request, ms. */
  durationMs: number;
  items: number;
  bytes: number;
  indexed: number;
  duplicates: number;
  deadLettered: number;
  /** Documents queued again. */
  retried: number;
  /** Set when the whole request failed. */
  failure?: RetryCause | 'split';
  /** The error message of a failed request, for logs. */
  error?: string;
}

export interface BulkIndexerStats {
  /** Documents accepted by `add`. */
  added: number;
  /** Created by this indexer. */
  indexed: number;
  /** Already there (409 on create): a replay or a retry of a request that had landed. */
  duplicates: number;
  deadLettered: number;
  /** Documents sent again, by cause (one per document per retry). */
  retries: Record<RetryCause, number>;
  /** Whole `_bulk` requests that failed, by cause. */
  failedRequests: Record<RetryCause, number>;
  /** Requests split in two after a 413 or 400 on the whole request. */
  splits: number;
  /** `_bulk` requests sent, and their latency (ms): sum, max and last. */
  bulk: { requests: number; totalMs: number; maxMs: number; lastMs: number };
  /** Documents added and not yet checkpointed (done ones behind a pending one included). */
  queuedItems: number;
  /** Bytes of documents not yet done (queued plus in flight): what `maxQueuedBytes` bounds. */
  queuedBytes: number;
  inFlightRequests: number;
  /** Consecutive failed rounds (0 when the last request went through). */
  consecutiveFailures: number;
  indexedUpTo: bigint | undefined;
}

/** The subset of a pino logger the indexer uses. */
export interface SinkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface BulkIndexerOptions {
  client: Client;
  /** Default {@link DEFAULT_DATA_STREAM}. */
  dataStream?: string;
  /** Flush at this many documents (default 5000). */
  flushCount?: number;
  /** Flush at this many bytes of request body (default 5 MiB). */
  flushBytes?: number;
  /** Flush documents that waited this long (default 1000 ms). */
  flushIntervalMs?: number;
  /** Bytes of documents held (queued and in flight) before `add` says stop (default 24 MiB). */
  maxQueuedBytes?: number;
  /** `_bulk` requests in flight at once (default 4). */
  concurrency?: number;
  /** Retry backoff (default 100 ms initial, 30 s cap). */
  backoff?: BackoffOptions;
  /** Timeout of one `_bulk` request (default: the client's). */
  requestTimeoutMs?: number;
  /** Where rejected documents go: a file (or an already open one). */
  deadLetter: DeadLetterOptions | DeadLetterFile;
  /** Called when the checkpoint advances (the new {@link BulkIndexer.indexedUpTo}). */
  onDone?: (position: bigint) => void;
  /** Called after each `_bulk` request. */
  onBulk?: (event: BulkEvent) => void;
  logger?: SinkLogger;
  /** Source of jitter, in [0, 1) (default Math.random). */
  random?: () => number;
}

export const DEFAULT_FLUSH_COUNT = 5000;
export const DEFAULT_FLUSH_BYTES = 5 * 1024 * 1024;
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
export const DEFAULT_MAX_QUEUED_BYTES = 24 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 4;

const NO_BYTES = new Uint8Array(0);
const LF = 0x0a;
/** Runs of lines a body is sent as without a copy (decode batches: a few per request). */
const MAX_BODY_PARTS = 16;

interface Entry extends BodyLine {
  /**
   * The document's line (action, document, line break) is `buf[start, end)`, kept until
   * done (then let go). The `_id` and the document are read back out of it only for a
   * dead letter.
   */
  buf: Uint8Array;
  start: number;
  end: number;
  readonly position: bigint;
  /** Its size in a request body. */
  readonly bytes: number;
  readonly seq: number;
  done: boolean;
}

/** A FIFO with O(1) shift (an array and a head index, compacted now and then). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

/** Per-item error types of a 400 that are about the index, not the document. */
const NOT_CONTENT_ERRORS = new Set([
  'index_closed_exception',
  'index_not_found_exception',
  'invalid_index_name_exception',
  'cluster_block_exception',
  'security_exception',
  'unavailable_shards_exception',
  'es_rejected_execution_exception',
  'circuit_breaking_exception',
]);

/**
 * Request-level 400 error types that point at a document's bytes (not
 * illegal_argument_exception: at request level it is about parameters, not content).
 */
const CONTENT_REQUEST_ERRORS = new Set([
  'x_content_parse_exception',
  'json_parse_exception',
  'parse_exception',
  'not_x_content_exception',
]);

type Outcome =
  | { kind: 'done'; duplicate: boolean }
  | { kind: 'retry'; cause: RetryCause }
  | { kind: 'dead' };

/** Classifies one item's answer. */
export function classifyItem(status: number, errorType: string | undefined): Outcome {
  if (status >= 200 && status < 300) return { kind: 'done', duplicate: false };
  if (status === 409) return { kind: 'done', duplicate: true };
  if (status === 429) return { kind: 'retry', cause: 'rejected_429' };
  if (status >= 500) return { kind: 'retry', cause: 'server_5xx' };
  if (status === 408) return { kind: 'retry', cause: 'timeout' };
  if (status === 401 || status === 403) return { kind: 'retry', cause: 'auth' };
  if (status === 404) return { kind: 'retry', cause: 'other' };
  if (errorType !== undefined && NOT_CONTENT_ERRORS.has(errorType)) {
    return { kind: 'retry', cause: 'other' };
  }
  if (status >= 400) return { kind: 'dead' };
  return { kind: 'retry', cause: 'other' };
}

/** Classifies a failed request (the client threw). */
function classifyRequestError(err: unknown): { cause: RetryCause; status?: number } {
  if (err instanceof errors.TimeoutError) return { cause: 'timeout' };
  if (err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError) {
    return { cause: 'connection' };
  }
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    if (status === 429) return { cause: 'rejected_429', status };
    if (status >= 500) return { cause: 'server_5xx', status };
    if (status === 408) return { cause: 'timeout', status };
    if (status === 401 || status === 403) return { cause: 'auth', status };
    return { cause: 'other', status };
  }
  return { cause: 'other' };
}

interface ItemError {
  type?: unknown;
  reason?: unknown;
  caused_by?: unknown;
}

interface BulkAnswer {
  errors?: unknown;
  items?: unknown;
}

function asItemError(e: unknown): DeadLetterError {
  const err = (typeof e === 'object' && e !== null ? e : {}) as ItemError;
  const out: DeadLetterError = {
    type: typeof err.type === 'string' ? err.type : 'unknown',
    reason: typeof err.reason === 'string' ? err.reason : JSON.stringify(e ?? null),
  };
  if (err.caused_by !== undefined) out.caused_by = err.caused_by;
  return out;
}

function responseErrorOf(err: unknown): DeadLetterError {
  if (err instanceof errors.ResponseError) {
    const body = err.body as { error?: unknown } | undefined;
    if (body && typeof body === 'object' && body.error !== undefined) {
      return typeof body.error === 'string'
        ? { type: 'unknown', reason: body.error }
        : asItemError(body.error);
    }
  }
  return { type: 'request_error', reason: err instanceof Error ? err.message : String(err) };
}

function emptyCauses(): Record<RetryCause, number> {
  return Object.fromEntries(RETRY_CAUSES.map((c) => [c, 0])) as Record<RetryCause, number>;
}

/** See the module comment. Create, `add` documents, `close` at shutdown. */
export class BulkIndexer {
  private readonly client: Client;
  private readonly path: string;
  private readonly flushCount: number;
  private readonly flushBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueuedBytes: number;
  private readonly concurrency: number;
  private readonly backoff: BackoffOptions;
  private readonly requestTimeoutMs: number | undefined;
  private readonly deadLetter: DeadLetterFile;
  private readonly ownsDeadLetter: boolean;
  private readonly onDone: ((position: bigint) => void) | undefined;
  private readonly onBulk: ((event: BulkEvent) => void) | undefined;
  private readonly logger: SinkLogger | undefined;
  private readonly random: () => number;

  /** Every entry not yet popped, in add order (for the checkpoint). */
  private readonly order = new Fifo<Entry>();
  /** Entries to send: retries first, then fresh ones. */
  private readonly retryQueue = new Fifo<Entry>();
  private readonly fresh = new Fifo<Entry>();
  private pendingBytes = 0;
  private queuedBytes = 0;
  private inFlight = 0;
  private readonly controllers = new Set<AbortController>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  private due = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Reduced batch size after a split, until a request goes through. */
  private splitLimit: number | undefined;

  private seq = 0;
  private popped = 0;
  private lastAddedPosition: bigint | undefined;
  private lastPopped: bigint | undefined;
  private beforeLastPopped: bigint | undefined;
  private watermark: bigint | undefined;

  private closing = false;
  private stopped = false;
  private capacityWaiters: (() => void)[] = [];
  private flushWaiters: { seq: number; resolve: () => void }[] = [];

  private readonly counters = {
    added: 0,
    indexed: 0,
    duplicates: 0,
    deadLettered: 0,
    splits: 0,
    retries: emptyCauses(),
    failedRequests: emptyCauses(),
    bulk: { requests: 0, totalMs: 0, maxMs: 0, lastMs: 0 },
  };

  constructor(opts: BulkIndexerOptions) {
    this.client = opts.client;
    this.path = `/${encodeURIComponent(opts.dataStream ?? DEFAULT_DATA_STREAM)}/_bulk`;
    this.flushCount = Math.max(1, opts.flushCount ?? DEFAULT_FLUSH_COUNT);
    this.flushBytes = Math.max(1, opts.flushBytes ?? DEFAULT_FLUSH_BYTES);
    this.flushIntervalMs = opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
    this.backoff = opts.backoff ?? {};
    this.requestTimeoutMs = opts.requestTimeoutMs;
    this.ownsDeadLetter = !(opts.deadLetter instanceof DeadLetterFile);
    this.deadLetter =
      opts.deadLetter instanceof DeadLetterFile
        ? opts.deadLetter
        : new DeadLetterFile(opts.deadLetter);
    this.onDone = opts.onDone;
    this.onBulk = opts.onBulk;
    this.logger = opts.logger;
    this.random = opts.random ?? Math.random;
  }

  /**
   * Queues a document. Returns false when the indexer holds `maxQueuedBytes` or more:
   * the document is still queued, but the caller should `await waitForCapacity()` before
   * adding more (stop reading the journal). Positions must not decrease.
   */
  add(item: BulkItem): boolean {
    if (this.closing) throw new Error('BulkIndexer: add() after close()');
    if (this.lastAddedPosition !== undefined && item.position < this.lastAddedPosition) {
      throw new RangeError(
        `BulkIndexer: position ${item.position} after ${this.lastAddedPosition} (positions must not decrease)`,
      );
    }
    this.lastAddedPosition = item.position;
    this.counters.added += 1;
    let source = asBytes(item.source);
    // A raw line break would split the document across NDJSON lines.
    let invalid: DeadLetterError | undefined;
    if (hasLineBreak(source)) {
      try {
        source = Buffer.from(JSON.stringify(JSON.parse(sourceText(source))), 'utf8');
      } catch (err) {
        invalid = { type: 'invalid_json', reason: (err as Error).message };
      }
    }
    const line = renderLine(JSON.stringify(item.id), source);
    this.enqueue(line, 0, line.length, item.position, invalid);
    this.schedule();
    return this.hasCapacity();
  }

  /**
   * Queues documents already rendered as bulk lines (the decode workers'): line j is
   * `buf[offsets[j], offsets[j + 1])`, `{"create":{"_id":...}}\n`, the document and a line
   * break, all at journal `position`. The buffer is kept as it is (not copied) until the
   * documents are done, so the caller must not write into it before then. Returns false
   * when the indexer is full, as {@link add} does.
   */
  addLines(buf: Uint8Array, offsets: ArrayLike<number>, position: bigint): boolean {
    if (this.closing) throw new Error('BulkIndexer: addLines() after close()');
    if (this.lastAddedPosition !== undefined && position < this.lastAddedPosition) {
      throw new RangeError(
        `BulkIndexer: position ${position} after ${this.lastAddedPosition} (positions must not decrease)`,
      );
    }
    this.lastAddedPosition = position;
    for (let j = 0; j + 1 < offsets.length; j++) {
      const start = offsets[j] as number;
      const end = offsets[j + 1] as number;
      this.counters.added += 1;
      // A line must end where its document does: anything else would shift every
      // document after it in the request onto the wrong action.
      const invalid: DeadLetterError | undefined =
        end > start && buf[end - 1] === LF
          ? undefined
          : { type: 'invalid_line', reason: 'a bulk line must end with a line break' };
      this.enqueue(buf, start, end, position, invalid);
    }
    this.schedule();
    return this.hasCapacity();
  }

  private enqueue(
    buf: Uint8Array,
    start: number,
    end: number,
    position: bigint,
    invalid: DeadLetterError | undefined,
  ): void {
    const entry: Entry = {
      buf,
      start,
      end,
      position,
      bytes: end - start,
      seq: this.seq++,
      done: false,
    };
    this.order.push(entry);
    this.queuedBytes += entry.bytes;
    if (invalid !== undefined) {
      this.deadLetterUnsendable(entry, invalid, 0);
    } else {
      this.fresh.push(entry);
      this.pendingBytes += entry.bytes;
    }
  }

  /** After documents were queued: sends what is ready, or arms the flush timer. */
  private schedule(): void {
    this.armFlushTimer();
    this.pump();
  }

  /** True while the indexer holds less than `maxQueuedBytes`. */
  hasCapacity(): boolean {
    return this.queuedBytes < this.maxQueuedBytes;
  }

  /** Resolves when `add` may be called again without exceeding the memory bound. */
  waitForCapacity(): Promise<void> {
    if (this.hasCapacity() || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  /**
   * The checkpoint: the highest position P such that every document added with a
   * position <= P is done (indexed, duplicate or dead-lettered). Undefined until then.
   */
  indexedUpTo(): bigint | undefined {
    return this.watermark;
  }

  /**
   * Sends what is queued now and resolves when every document added so far is done
   * (or when `close` gave up waiting: then `indexedUpTo` tells what is done).
   */
  /**
   * Sends what is queued as soon as requests may go, without waiting for a batch to fill
   * or for the flush interval: for a caller that knows no more documents are coming soon
   * (the input went quiet), where the interval would only delay the last ones.
   */
  sendNow(): void {
    if (this.pendingCount() === 0 || this.stopped) return;
    this.due = true;
    this.pump();
  }

  flush(): Promise<void> {
    const seq = this.seq;
    if (this.popped >= seq || this.stopped) return Promise.resolve();
    this.due = true;
    this.pump();
    return new Promise((resolve) => this.flushWaiters.push({ seq, resolve }));
  }

  /**
   * Stops accepting documents, sends what is queued, and waits up to `timeoutMs`
   * (default: without limit) for it to be done. Past the timeout, requests in flight
   * are abandoned: those documents are not checkpointed, so they are indexed again
   * from the journal (as duplicates if they had landed).
   */
  async close(opts: { timeoutMs?: number } = {}): Promise<{ drained: boolean }> {
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.flush().then(() => true),
      new Promise<boolean>((resolve) => {
        if (opts.timeoutMs !== undefined) timer = setTimeout(() => resolve(false), opts.timeoutMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    this.stopped = true;
    this.clearTimers();
    for (const c of this.controllers) c.abort();
    for (const w of this.capacityWaiters.splice(0)) w();
    for (const w of this.flushWaiters.splice(0)) w.resolve();
    if (this.ownsDeadLetter) await this.deadLetter.close();
    return { drained };
  }

  /** Counters and state; raw numbers for the metrics module. */
  stats(): BulkIndexerStats {
    const c = this.counters;
    return {
      added: c.added,
      indexed: c.indexed,
      duplicates: c.duplicates,
      deadLettered: c.deadLettered,
      retries: { ...c.retries },
      failedRequests: { ...c.failedRequests },
      splits: c.splits,
      bulk: { ...c.bulk },
      queuedItems: this.seq - this.popped,
      queuedBytes: this.queuedBytes,
      inFlightRequests: this.inFlight,
      consecutiveFailures: this.failures,
      indexedUpTo: this.watermark,
    };
  }

  // --- sending ---------------------------------------------------------------------

  private pendingCount(): number {
    return this.retryQueue.length + this.fresh.length;
  }

  private armFlushTimer(): void {
    if (this.flushTimer !== undefined || this.due || this.pendingCount() === 0) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.due = true;
      this.pump();
    }, this.flushIntervalMs);
  }

  private clearTimers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.flushTimer = undefined;
    this.resumeTimer = undefined;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
  }

  private ready(): boolean {
    return (
      this.due ||
      this.retryQueue.length > 0 ||
      this.fresh.length >= this.flushCount ||
      this.pendingBytes >= this.flushBytes
    );
  }

  private pump(): void {
    if (this.stopped) return;
    while (this.inFlight < this.concurrency && this.pendingCount() > 0 && this.ready()) {
      const wait = this.pausedUntil - performance.now();
      if (wait > 0) {
        this.resumeTimer ??= setTimeout(() => {
          this.resumeTimer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.send(batch)
        .catch((err: unknown) => this.hookFailed('send', err))
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
    if (this.pendingCount() === 0) {
      this.due = false;
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    } else {
      this.armFlushTimer();
    }
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    const limit = this.splitLimit ?? this.flushCount;
    let bytes = 0;
    for (const q of [this.retryQueue, this.fresh]) {
      for (;;) {
        const next = q.peek();
        if (next === undefined || batch.length >= limit) break;
        if (batch.length > 0 && bytes + next.bytes > this.flushBytes) break;
        q.shift();
        batch.push(next);
        bytes += next.bytes;
      }
    }
    this.pendingBytes -= bytes;
    return batch;
  }

  private async send(batch: Entry[]): Promise<void> {
    // The body is views of the lines' own buffers (bulk-body.ts): one Buffer, or a
    // stream of a few (sent chunked). The lines are held until done, which is after the
    // answer, so their bytes stay put while the request reads them. Lines in many
    // buffers of their own (documents added one by one) are copied into one instead:
    // a socket write per line would cost more than the copy.
    const { parts, bytes } = bulkBodyParts(batch);
    const body =
      parts.length === 1
        ? (parts[0] as Buffer)
        : parts.length <= MAX_BODY_PARTS
          ? Readable.from(parts)
          : Buffer.concat(parts, bytes);
    const controller = new AbortController();
    this.controllers.add(controller);
    const started = performance.now();
    let answer: BulkAnswer;
    try {
      answer = await this.client.transport.request<BulkAnswer>(
        {
          method: 'POST',
          path: this.path,
          querystring: { filter_path: 'errors,items.*.status,items.*.error' },
          bulkBody: body,
        },
        {
          maxRetries: 0,
          signal: controller.signal,
          ...(this.requestTimeoutMs !== undefined ? { requestTimeout: this.requestTimeoutMs } : {}),
        },
      );
    } catch (err) {
      const durationMs = this.timed(started);
      this.controllers.delete(controller);
      if (this.stopped) return;
      await this.requestFailed(batch, err, { durationMs, items: batch.length, bytes });
      return;
    }
    const durationMs = this.timed(started);
    this.controllers.delete(controller);
    if (this.stopped) return;
    try {
      await this.handleAnswer(batch, answer, { durationMs, items: batch.length, bytes });
    } catch (err) {
      // A bug here must not lose documents nor crash the collector: send them again.
      const message = err instanceof Error ? err.message : String(err);
      this.logger?.error({ error: message }, 'unexpected error handling a bulk answer');
      this.failedRound(
        batch.filter((e) => !e.done),
        'other',
        message,
      );
    }
  }

  private timed(started: number): number {
    const ms = performance.now() - started;
    const b = this.counters.bulk;
    b.requests += 1;
    b.totalMs += ms;
    b.lastMs = ms;
    if (ms > b.maxMs) b.maxMs = ms;
    return ms;
  }

  private async handleAnswer(
    batch: Entry[],
    answer: BulkAnswer,
    base: { durationMs: number; items: number; bytes: number },
  ): Promise<void> {
    const event: BulkEvent = { ...base, indexed: 0, duplicates: 0, deadLettered: 0, retried: 0 };
    if (answer !== null && typeof answer === 'object' && answer.errors === false) {
      for (const e of batch) this.complete(e);
      event.indexed = batch.length;
      this.counters.indexed += batch.length;
      this.settle();
      this.succeeded();
      this.emitBulk(event);
      return;
    }
    const items =
      answer !== null && typeof answer === 'object' && Array.isArray(answer.items)
        ? (answer.items as unknown[])
        : undefined;
    if (items === undefined || items.length !== batch.length) {
      // Not a bulk answer we can map to our documents: send them again (409s are harmless).
      const error = `bulk answer has ${items?.length ?? 'no'} items for ${batch.length} documents`;
      this.failedRound(batch, 'other', error);
      event.failure = 'other';
      event.error = error;
      event.retried = batch.length;
      this.emitBulk(event);
      return;
    }
    const retry = new Map<RetryCause, Entry[]>();
    const dead: { entry: Entry; status: number; error: DeadLetterError }[] = [];
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i] as Entry;
      const wrapper = items[i] as Record<string, { status?: unknown; error?: unknown }> | null;
      const result = wrapper && typeof wrapper === 'object' ? Object.values(wrapper)[0] : undefined;
      const status = typeof result?.status === 'number' ? result.status : 0;
      const error = result?.error;
      const type =
        typeof error === 'object' && error !== null && 'type' in error
          ? String((error as { type: unknown }).type)
          : undefined;
      const outcome = classifyItem(status, type);
      if (outcome.kind === 'done') {
        this.complete(entry);
        if (outcome.duplicate) {
          event.duplicates += 1;
          this.counters.duplicates += 1;
        } else {
          event.indexed += 1;
          this.counters.indexed += 1;
        }
      } else if (outcome.kind === 'retry') {
        const list = retry.get(outcome.cause) ?? [];
        list.push(entry);
        retry.set(outcome.cause, list);
      } else {
        dead.push({ entry, status, error: asItemError(error) });
      }
    }
    if (dead.length > 0) {
      const failed = await this.deadLetterEntries(dead);
      event.deadLettered = dead.length - failed.length;
      if (failed.length > 0) retry.set('dead_letter_write', failed);
    }
    if (retry.size > 0) {
      for (const [cause, entries] of retry) {
        this.requeue(entries, cause);
        event.retried += entries.length;
      }
      this.pause();
    } else {
      this.succeeded();
    }
    this.settle();
    this.emitBulk(event);
  }

  private async requestFailed(
    batch: Entry[],
    err: unknown,
    base: { durationMs: number; items: number; bytes: number },
  ): Promise<void> {
    const event: BulkEvent = { ...base, indexed: 0, duplicates: 0, deadLettered: 0, retried: 0 };
    const message = err instanceof Error ? err.message : String(err);
    event.error = message;
    const { cause, status } = classifyRequestError(err);
    const tooLarge = status === 413;
    const badRequest = status === 400;
    if ((tooLarge || badRequest) && batch.length > 1) {
      // Isolate the document the server choked on: halve the request, no backoff.
      this.counters.splits += 1;
      this.splitLimit = Math.ceil(batch.length / 2);
      this.queueForRetry(batch);
      event.failure = 'split';
      this.emitBulk(event);
      return;
    }
    if (tooLarge || (badRequest && CONTENT_REQUEST_ERRORS.has(responseErrorOf(err).type))) {
      const failed = await this.deadLetterEntries(
        batch.map((entry) => ({ entry, status: status ?? 0, error: responseErrorOf(err) })),
      );
      event.deadLettered = batch.length - failed.length;
      if (failed.length > 0) {
        this.requeue(failed, 'dead_letter_write');
        this.pause();
      }
      this.emitBulk(event);
      return;
    }
    this.failedRound(batch, cause, message);
    event.failure = cause;
    event.retried = batch.length;
    this.emitBulk(event);
  }

  private failedRound(batch: Entry[], cause: RetryCause, message: string): void {
    this.counters.failedRequests[cause] += 1;
    if (this.failures === 0) {
      this.logger?.warn(
        { cause, error: message, documents: batch.length },
        'Elasticsearch bulk request failed; retrying with backoff (records wait in the journal)',
      );
    }
    this.requeue(batch, cause);
    this.pause();
  }

  private succeeded(): void {
    if (this.failures > 0) {
      this.logger?.info(
        { failedRounds: this.failures },
        'Elasticsearch bulk indexing goes through again',
      );
    }
    this.failures = 0;
    this.splitLimit = undefined;
  }

  private pause(): void {
    this.failures += 1;
    const delay = backoffDelay(this.failures, this.backoff, this.random);
    this.pausedUntil = Math.max(this.pausedUntil, performance.now() + delay);
  }

  private requeue(entries: readonly Entry[], cause: RetryCause): void {
    if (entries.length === 0) return;
    this.counters.retries[cause] += entries.length;
    this.queueForRetry(entries);
  }

  /** Retries go out before fresh documents (the checkpoint waits for them). */
  private queueForRetry(entries: readonly Entry[]): void {
    for (const e of entries) {
      this.retryQueue.push(e);
      this.pendingBytes += e.bytes;
    }
  }

  /**
   * A document that cannot go into a bulk body: dead-lettered without sending, the write
   * retried with backoff until it succeeds (it must never be sent as is).
   */
  private deadLetterUnsendable(entry: Entry, error: DeadLetterError, attempt: number): void {
    void this.deadLetterEntries([{ entry, status: 0, error }]).then((failed) => {
      if (failed.length === 0 || this.stopped) return;
      this.counters.retries.dead_letter_write += 1;
      const delay = backoffDelay(attempt + 1, this.backoff, this.random);
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.deadLetterUnsendable(entry, error, attempt + 1);
      }, delay);
      this.retryTimers.add(timer);
    });
  }

  /** Writes dead letters; returns the entries whose write failed (to be retried). */
  private async deadLetterEntries(
    list: readonly { entry: Entry; status: number; error: DeadLetterError }[],
  ): Promise<Entry[]> {
    const time = new Date().toISOString();
    const lines: DeadLetterEntry[] = list.map(({ entry, status, error }) => {
      const { id, source } = lineParts(entry);
      return {
        time,
        id,
        position: entry.position.toString(),
        status,
        error,
        // The one place a document becomes text again.
        source: entrySource(sourceText(source)),
      };
    });
    try {
      await this.deadLetter.append(lines);
    } catch (err) {
      this.logger?.error(
        { error: (err as Error).message, path: this.deadLetter.path, documents: list.length },
        'cannot write the dead-letter file; the documents will be retried',
      );
      return list.map((d) => d.entry);
    }
    const first = list[0];
    this.logger?.warn(
      {
        documents: list.length,
        path: this.deadLetter.path,
        error: first?.error.type,
        reason: first?.error.reason,
      },
      'Elasticsearch rejected documents for their content; written to the dead-letter file',
    );
    this.counters.deadLettered += list.length;
    for (const d of list) this.complete(d.entry);
    this.settle();
    return [];
  }

  private emitBulk(event: BulkEvent): void {
    if (!this.onBulk) return;
    try {
      this.onBulk(event);
    } catch (err) {
      this.hookFailed('onBulk', err);
    }
  }

  /** A throwing hook is the caller's bug (or ours, for `send`); it must not stop indexing. */
  private hookFailed(where: string, err: unknown): void {
    const error = err instanceof Error ? err.message : String(err);
    this.logger?.error({ where, error }, 'unexpected error in the bulk indexer');
  }

  // --- checkpoint ------------------------------------------------------------------

  /** Marks a document done; {@link settle} then moves the checkpoint once per answer. */
  private complete(entry: Entry): void {
    if (entry.done) return;
    entry.done = true;
    this.queuedBytes -= entry.bytes;
    // Done documents may wait in the checkpoint queue behind a slow one: keep them small,
    // and let their batch's buffer go (the decode pool recycles it once all are done).
    entry.buf = NO_BYTES;
    entry.start = 0;
    entry.end = 0;
  }

  private settle(): void {
    this.advance();
    if (this.hasCapacity() && this.capacityWaiters.length > 0) {
      for (const w of this.capacityWaiters.splice(0)) w();
    }
  }

  private advance(): void {
    let moved = false;
    for (;;) {
      const head = this.order.peek();
      if (head === undefined || !head.done) break;
      this.order.shift();
      this.popped += 1;
      const p = head.position;
      if (p !== this.lastPopped) {
        this.beforeLastPopped = this.lastPopped;
        this.lastPopped = p;
      }
      moved = true;
    }
    if (!moved) return;
    // A document still pending at the same position holds that position back.
    const front = this.order.peek();
    const mark =
      front !== undefined && front.position === this.lastPopped
        ? this.beforeLastPopped
        : this.lastPopped;
    if (mark !== undefined && (this.watermark === undefined || mark > this.watermark)) {
      this.watermark = mark;
      if (this.onDone) {
        try {
          this.onDone(mark);
        } catch (err) {
          this.hookFailed('onDone', err);
        }
      }
    }
    if (this.flushWaiters.length > 0) {
      const still: typeof this.flushWaiters = [];
      for (const w of this.flushWaiters) {
        if (this.popped >= w.seq) w.resolve();
        else still.push(w);
      }
      this.flushWaiters = still;
    }
  }
}
