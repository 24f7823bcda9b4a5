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
import { ReplyBuffers } from './reply-buffers.js';

// Each datagram's records are written and counted before the next is decoded: they are
// recycled (FlowDecoderOptions.recycleRecords).
let decoder = new FlowDecoder({ recycleRecords: true });
let instance = '';

/**
 * Where a batch's documents are written: straight into the buffer that is then
 * transferred to the main thread (a recycled one when one fits), so the bytes are not
 * copied out unless the batch outgrew it (see ReplyBuffers).
 */
const out = new JsonOut(64);
const lines = new BulkLineWriter(out);
/** New reply buffers are sized in steps of this. */
const REPLY_ROUNDING = 64 * 1024;
/** Reply buffers the main thread handed back (see SpareBuffer), at most 8 MiB kept. */
const replies = new ReplyBuffers(new BufferSpares(8 * 1024 * 1024, REPLY_ROUNDING));

/** Lives as long as the worker: it numbers flow tuples once for the main thread. */
const totals = new FlowTotalsBuilder();

function decode(req: DecodeRequest): DecodeResponse {
  const data = new Uint8Array(req.data);
  const requestBytes = req.offsets[req.positions.length] as number;
  // Sized from the request (see ReplyBuffers); a batch that outgrows it grows the
  // buffer (doubling it), and is then copied into one of its size.
  out.adopt(replies.take(requestBytes));
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
  const bytes = replies.reply(out.buf.buffer as ArrayBuffer, out.bytes, out.pos, requestBytes);
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
          recycleRecords: true,
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
        replies.keep(msg.buffer);
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
