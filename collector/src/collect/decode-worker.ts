// A decode worker: owns the template state of the exporters hashed to it, turns journal
// entries into bulk-ready documents, and sums flow counts for the metrics.
import { parentPort } from 'node:worker_threads';
import { FlowDecoder } from '../flow/decoder.js';
import { documentText } from '../flow/document.js';
import type { FlowRecord } from '../flow/record.js';
import type { FlowTotals } from '../metrics/flows.js';
import type { DecodeRequest, DecodeResponse, FromWorker, ToWorker } from './messages.js';

let decoder = new FlowDecoder();

function wellKnownPort(r: FlowRecord): number | undefined {
  const ports = [r.srcPort, r.dstPort].filter((p): p is number => p !== undefined && p < 1024);
  return ports.length > 0 ? Math.min(...ports) : undefined;
}

function aggregateKey(r: FlowRecord, wk: number | undefined): string {
  return `${r.exporter.agent ?? r.exporter.address}|${r.inInterface}|${r.outInterface}|${r.protocol}|${r.direction}|${r.ipVersion}|${wk}`;
}

function decode(req: DecodeRequest): DecodeResponse {
  const data = new Uint8Array(req.data);
  const docs: string[][] = [];
  const agg = new Map<string, FlowTotals>();
  const touched = new Set<string>();
  for (let i = 0; i < req.positions.length; i++) {
    const exporter = req.exporters[i] as string;
    touched.add(exporter);
    const out = decoder.decode({
      bytes: data.subarray(req.offsets[i] as number, req.offsets[i + 1] as number),
      exporter,
      exporterPort: req.exporterPorts[i] as number,
      receivedMs: req.receivedMs[i] as number,
    });
    const lines: string[] = new Array(out.records.length);
    for (let k = 0; k < out.records.length; k++) {
      const r = out.records[k] as FlowRecord;
      lines[k] = documentText(r);
      if (r.kind !== 'flow') continue;
      const rate = r.samplingRate !== undefined && r.samplingRate > 1 ? r.samplingRate : 1;
      const wk = wellKnownPort(r);
      const key = aggregateKey(r, wk);
      let a = agg.get(key);
      if (!a) {
        a = {
          exporter: r.exporter.address,
          agent: r.exporter.agent,
          inInterface: r.inInterface,
          outInterface: r.outInterface,
          protocol: r.protocol,
          direction: r.direction,
          ipVersion: r.ipVersion,
          port: wk,
          bytes: 0,
          packets: 0,
          records: 0,
        };
        agg.set(key, a);
      }
      a.bytes += ((r.bytes ?? 0) + (r.reverseBytes ?? 0)) * rate;
      a.packets += ((r.packets ?? 0) + (r.reversePackets ?? 0)) * rate;
      a.records += 1;
    }
    docs.push(lines);
  }
  const all = decoder.exporterStats();
  return {
    type: 'decoded',
    id: req.id,
    docs,
    aggregates: [...agg.values()],
    stats: [...touched].flatMap((e) => {
      const s = all.get(e);
      return s ? [[e, s] as [string, typeof s]] : [];
    }),
  };
}

const port = parentPort;
if (!port) throw new Error('decode-worker must run as a worker thread');
port.on('message', (msg: ToWorker) => {
  let reply: FromWorker;
  try {
    switch (msg.type) {
      case 'init': {
        const i = msg.init;
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
      case 'decode':
        reply = decode(msg);
        break;
      case 'snapshot':
        reply = { type: 'snapshot', id: msg.id, snapshot: decoder.snapshotTemplates() };
        break;
      case 'expire':
        decoder.expire(msg.nowMs);
        return;
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
