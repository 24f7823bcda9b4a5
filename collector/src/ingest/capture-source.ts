import { readFileSync } from 'node:fs';
import type { Datagram } from '../flow/decoder.js';
import { readCapture } from '../protocol/capture/capture.js';
import type { CaptureError } from '../protocol/capture/types.js';
import { UdpExtractor } from '../protocol/capture/udp.js';

export interface CaptureDatagram extends Datagram {
  readonly file: string;
  /** 0-based frame index in its file. */
  readonly frame: number;
  readonly dstPort: number;
}

export interface CaptureReadStats {
  file: string;
  frames: number;
  datagrams: number;
  skipped: Record<string, number>;
  error: CaptureError | undefined;
}

/**
 * UDP datagrams of export packets from capture files (pcap, pcapng), in file order and
 * packet order; IP fragments are reassembled across the whole run. `port` keeps only
 * datagrams sent to that UDP port. Reading errors are reported in `stats`, not thrown:
 * the datagrams before a truncation are still delivered.
 */
export function* datagramsFromCaptures(
  files: readonly string[],
  opts: { port?: number | undefined } = {},
  stats: CaptureReadStats[] = [],
): Generator<CaptureDatagram> {
  const udp = new UdpExtractor();
  let before: Record<string, number> = {};
  for (const file of files) {
    const s: CaptureReadStats = { file, frames: 0, datagrams: 0, skipped: {}, error: undefined };
    stats.push(s);
    const bytes = readFileSync(file);
    const it = readCapture(bytes);
    for (;;) {
      const next = it.next();
      if (next.done) {
        s.error = next.value.error;
        break;
      }
      s.frames += 1;
      const frame = next.value;
      const d = udp.push(frame);
      if (!d) continue;
      if (opts.port !== undefined && d.dstPort !== opts.port) continue;
      s.datagrams += 1;
      yield {
        file,
        frame: frame.index,
        bytes: d.payload,
        exporter: d.src,
        exporterPort: d.srcPort,
        dstPort: d.dstPort,
        receivedMs: d.timeMs,
      };
    }
    // The extractor spans files (fragments may too): report this file's share.
    const counts = udp.stats();
    const now: Record<string, number> = { ...counts.skipped };
    for (const [k, v] of Object.entries(counts.abandoned)) now[`fragments_${k}`] = v;
    for (const [k, v] of Object.entries(now)) {
      const delta = v - (before[k] ?? 0);
      if (delta > 0) s.skipped[k] = delta;
    }
    before = now;
  }
}
