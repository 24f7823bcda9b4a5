// Decodes a real exporter's captured datagrams with Sluice's decoder, in arrival order:
// what the exporter tests compare with the generated totals and with tshark.
import type { ExportCapture } from '@sluice/testkit';
import { type ExporterStats, FlowDecoder } from '../../src/flow/decoder.js';
import type { FlowRecord } from '../../src/flow/record.js';

export interface DecodedCapture {
  /** Records per datagram, in the capture's order (to compare datagram by datagram). */
  perDatagram: FlowRecord[][];
  /** Every decode issue, as `reason: message`. */
  issues: string[];
  /** Held data still waiting for a template at the end (counted by `drain`). */
  drained: number;
  /** Per-exporter stats after the drain. */
  stats: [string, ExporterStats][];
}

export function decodeCapture(cap: ExportCapture): DecodedCapture {
  const decoder = new FlowDecoder();
  const perDatagram: FlowRecord[][] = [];
  const issues: string[] = [];
  for (const d of cap.datagrams) {
    const out = decoder.decode({
      bytes: d.bytes,
      exporter: d.address,
      exporterPort: d.port,
      receivedMs: d.receivedMs,
    });
    perDatagram.push(out.records);
    for (const i of out.issues) issues.push(`${i.reason}: ${i.message}`);
  }
  const drained = decoder.drain();
  return { perDatagram, issues, drained, stats: [...decoder.exporterStats()] };
}
