// A decode worker: owns the template state of the exporters hashed to it, turns journal
// entries into bulk-ready documents, and sums flow counts for the metrics.
import { parentPort } from 'node:worker_threads';
import { type ExporterStats, FlowDecoder } from '../flow/decoder.js';
import { JsonOut } from '../flow/json-out.js';
import type { FlowRecord } from '../flow/record.js';
import { FlowTotalsBuilder } from '../metrics/flow-tuples.js';
import { BufferSpares } from './buffer-spares.js';
import { BulkLineWriter } from './bulk-lines.js';
import type {
  DecodeRequest,
  DecodeResponse,
  FromWorker,
  StatsReport,
  ToWorker,
} from './messages.js';

let decoder = new FlowDecoder();
let instance = '';

/**
 * Where a batch's documents are written: straight into the buffer that is then
 * transferred to the main thread (a recycled one when one fits), so the bytes are not
 * copied out unless the batch outgrew it (see tightReply).
 */
const out = new JsonOut(64);
const lines = new BulkLineWriter(out);
/** Bytes the last batch wrote: the size asked of the next batch's buffer. */
let lastBatchBytes = 256 * 1024;

/** New reply buffers are rounded up to this, so that later batches fit in recycled ones. */
const REPLY_ROUNDING = 256 * 1024;
/** Buffers the main thread handed back (see SpareBuffer), at most 8 MiB kept. */
const spares = new BufferSpares(8 * 1024 * 1024, REPLY_ROUNDING);

/** Bytes a reply buffer of `n` written bytes may leave unused. */
function slack(n: number): number {
  return Math.max(REPLY_ROUNDING, n >> 3);
}

/**
 * The batch's bytes to transfer: the writer's own buffer when it fits them closely,
 * else a copy into one that does (the large buffer kept as a spare). Why: a reply buffer
 * is held until every document in it is indexed, and with Elasticsearch slower than the
 * input the held buffers add up to the bulk queue's bound; half-empty ones (a grown
 * buffer is twice the size it needed) doubled that memory.
 */
function tightReply(): ArrayBuffer {
  const written = out.buf.buffer as ArrayBuffer;
  const n = out.pos;
  if (written.byteLength - n <= slack(n)) return written;
  const tight = spares.take(n, n + slack(n));
  new Uint8Array(tight).set(out.bytes.subarray(0, n));
  spares.keep(written);
  return tight;
}

/** Lives as long as the worker: it numbers flow tuples once for the main thread. */
const totals = new FlowTotalsBuilder();

function decode(req: DecodeRequest): DecodeResponse {
  const data = new Uint8Array(req.data);
  // Room for a batch like the last one and an eighth more; a larger batch grows the
  // buffer (doubling it), and is then copied into one of its size (see tightReply).
  out.adopt(spares.take(lastBatchBytes + (lastBatchBytes >> 3)));
  lines.begin();
  const docCounts = new Uint32Array(req.positions.length);
  const touched = new Set<string>();
  for (let i = 0; i < req.positions.length; i++) {
    const exporter = req.exporters[i] as string;
    touched.add(exporter);
    const decoded = decoder.decode({
      bytes: data.subarray(req.offsets[i] as number, req.offsets[i + 1] as number),
      exporter,
      exporterPort: req.exporterPorts[i] as number,
      receivedMs: req.receivedMs[i] as number,
    });
    const records = decoded.records;
    docCounts[i] = records.length;
    lines.datagram(records, instance, req.positions[i] as number);
    for (let k = 0; k < records.length; k++) {
      const r = records[k] as FlowRecord;
      if (r.kind === 'flow') totals.add(r);
    }
  }
  const table = totals.build();
  lastBatchBytes = out.pos;
  const bytes = tightReply();
  return {
    type: 'decoded',
    id: req.id,
    bytes,
    docOffsets: lines.takeOffsets(),
    docCounts,
    request: req.data,
    aggregates: [table],
    stats: statsOf(touched),
  };
}

function statsOf(exporters: Iterable<string>): [string, ExporterStats][] {
  const all = decoder.exporterStats();
  const list: [string, ExporterStats][] = [];
  for (const e of exporters) {
    const s = all.get(e);
    if (s) list.push([e, s]);
  }
  return list;
}

/**
 * Expires held data whose template never came and returns the stats of the exporters it
 * counted template misses against (empty when none expired).
 */
function expire(nowMs: number): StatsReport | undefined {
  const missing = (s: ExporterStats): number => s.errors.template_missing ?? 0;
  const before = new Map<string, number>();
  for (const [e, s] of decoder.exporterStats()) before.set(e, missing(s));
  if (decoder.expire(nowMs) === 0) return undefined;
  const touched: string[] = [];
  for (const [e, s] of decoder.exporterStats()) {
    if (missing(s) !== (before.get(e) ?? 0)) touched.push(e);
  }
  return touched.length > 0 ? { type: 'stats', stats: statsOf(touched) } : undefined;
}

const port = parentPort;
if (!port) throw new Error('decode-worker must run as a worker thread');
port.on('message', (msg: ToWorker) => {
  let reply: FromWorker;
  try {
    switch (msg.type) {
      case 'init': {
        const i = msg.init;
        instance = i.instance;
        decoder = new FlowDecoder({
          templateLimits: {
            maxTemplatesPerExporter: i.templateLimits.maxTemplatesPerExporter,
            maxPendingBytesPerExporter: i.templateLimits.maxPendingBytesPerExporter,
            pendingTtlMs: i.templateLimits.pendingTtlMs,
            maxExporters: i.templateLimits.maxExporters,
          },
          sampling: {
            ...(i.samplingDefault !== undefined ? { defaultRate: i.samplingDefault } : {}),
            overrides: new Map(i.samplingOverrides),
          },
        });
        if (i.templates) decoder.restoreTemplates(i.templates);
        return;
      }
      case 'decode': {
        const r = decode(msg);
        port.postMessage(r, [
          r.bytes,
          r.docOffsets.buffer as ArrayBuffer,
          r.request,
          ...r.aggregates.map((t) => t.rows.buffer as ArrayBuffer),
        ]);
        return;
      }
      case 'spare':
        spares.keep(msg.buffer);
        return;
      case 'snapshot':
        reply = { type: 'snapshot', id: msg.id, snapshot: decoder.snapshotTemplates() };
        break;
      case 'expire': {
        // Reported now: the misses would otherwise wait for the exporter's next datagram.
        const report = expire(msg.nowMs);
        if (report === undefined) return;
        reply = report;
        break;
      }
    }
  } catch (err) {
    reply = {
      type: 'error',
      id: 'id' in msg ? msg.id : -1,
      message: (err as Error).stack ?? String(err),
    };
  }
  port.postMessage(reply);
});
