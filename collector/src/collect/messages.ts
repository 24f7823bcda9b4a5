import type { ExporterStats } from '../flow/decoder.js';
import type { FlowTotalsTable } from '../metrics/flow-tuples.js';
import type { TemplateSnapshot } from '../protocol/templates/store.js';

/** What the main thread and the decode workers say to each other. */

export interface WorkerInit {
  templateLimits: {
    maxTemplatesPerExporter: number;
    maxPendingBytesPerExporter: number;
    pendingTtlMs: number;
    maxExporters: number;
  };
  samplingDefault: number | undefined;
  samplingOverrides: [string, number][];
  /** Templates to start from (restored from disk), for the exporters of this worker. */
  templates: TemplateSnapshot | undefined;
  /** The collector instance id, the first part of every document id (see documentId). */
  instance: string;
}

/** A batch of journal entries, their bytes packed in one transferable buffer. */
export interface DecodeRequest {
  type: 'decode';
  id: number;
  positions: number[];
  exporters: string[];
  exporterPorts: number[];
  receivedMs: number[];
  /** Offsets into `data` (length n + 1). */
  offsets: number[];
  data: ArrayBuffer;
}

export interface DecodeResponse {
  type: 'decoded';
  id: number;
  /**
   * Every document of the batch as its bulk line (`{"create":{"_id":"<documentId>"}}\n`,
   * the UTF-8 JSON document, `\n`), back to back, entry by entry in record order
   * (transferred, not copied: no string per document crosses the threads).
   */
  bytes: ArrayBuffer;
  /** Line k is `bytes[docOffsets[k], docOffsets[k + 1])` (length documents + 1). */
  docOffsets: Uint32Array;
  /** Per entry, how many documents it produced. */
  docCounts: Uint32Array;
  /** The request's `data`, handed back (transferred) for a later request. */
  request: ArrayBuffer;
  aggregates: FlowTotalsTable[];
  /** Cumulative stats of the exporters seen in this batch. */
  stats: [string, ExporterStats][];
}

export type ToWorker =
  | { type: 'init'; init: WorkerInit }
  | DecodeRequest
  | { type: 'snapshot'; id: number }
  | { type: 'expire'; nowMs: number }
  | SpareBuffer;

/**
 * A `DecodeResponse.bytes` buffer handed back once every document in it is indexed, for
 * the worker to write a later batch into. Why: each batch's buffer lives until its
 * documents are indexed (seconds when Elasticsearch is slow), long enough for V8 to move
 * it to the old generation, where it is freed only by a full collection; at 50,000
 * records/s that left 50-100 MB of dead buffers waiting for one. Recycled buffers put a
 * bound on that memory and spare V8 the collections.
 */
export interface SpareBuffer {
  type: 'spare';
  buffer: ArrayBuffer;
}

/**
 * Unasked: stats of the exporters whose held data expired (template misses), sent right
 * after an `expire` so the metrics show them without waiting for the next datagram.
 */
export interface StatsReport {
  type: 'stats';
  stats: [string, ExporterStats][];
}

export type FromWorker =
  | DecodeResponse
  | StatsReport
  | { type: 'snapshot'; id: number; snapshot: TemplateSnapshot }
  | { type: 'error'; id: number; message: string };
