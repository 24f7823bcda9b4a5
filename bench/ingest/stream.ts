// The export datagrams the ingest benchmark sends: bench/decode's synthetic NetFlow v9
// and IPFIX streams (30 flow records per packet, varied addresses, ports, counters and
// times, the template again every 20 packets), one exporter each, interleaved. Each copy
// of a 1000-packet cycle gets the next sequence numbers, so the collector sees two live
// exporters without gaps or resets rather than the same packets replayed.
import { buildCase, RECORDS_PER_PACKET } from '../decode/cases.js';

export interface Outgoing {
  /** Loopback address the datagram is sent from: the exporter. */
  readonly exporter: string;
  readonly bytes: Uint8Array;
  /** Flow records it carries (the template-only packets carry none; ours all carry 30). */
  readonly records: number;
}

export const EXPORTERS = { v9: '127.0.0.2', ipfix: '127.0.0.3' } as const;

/** Where the collector's warm-up datagrams come from: exporters of their own. */
export const WARM_UP_EXPORTERS = { v9: '127.0.0.4', ipfix: '127.0.0.5' } as const;

/** `packets` datagrams, alternating v9 and IPFIX, from `exporters`. */
export function buildStream(
  packets: number,
  exporters: { readonly v9: string; readonly ipfix: string } = EXPORTERS,
): Outgoing[] {
  const v9 = buildCase('v9').datagrams;
  const ipfix = buildCase('ipfix').datagrams;
  const out: Outgoing[] = [];
  for (let i = 0; i < packets; i++) {
    const isV9 = i % 2 === 0;
    const n = Math.floor(i / 2);
    const cycle = isV9 ? v9 : ipfix;
    const src = cycle[n % cycle.length];
    if (!src) throw new Error('empty cycle');
    const bytes = Uint8Array.from(src.bytes);
    const view = new DataView(bytes.buffer);
    // v9 counts packets (header bytes 12-15, RFC 3954 5.1); IPFIX counts data records
    // before this message (bytes 8-11, RFC 7011 3.1).
    if (isV9) view.setUint32(12, n >>> 0);
    else view.setUint32(8, (n * RECORDS_PER_PACKET) >>> 0);
    out.push({
      exporter: isV9 ? exporters.v9 : exporters.ipfix,
      bytes,
      records: RECORDS_PER_PACKET,
    });
  }
  return out;
}
