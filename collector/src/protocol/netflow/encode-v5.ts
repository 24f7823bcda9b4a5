import { type ExportFlow, writeIpv4, writeUint } from './encode-flow.js';

/**
 * NetFlow v5 export datagrams (Cisco's fixed format): a 24-byte header and up to 30
 * records of 48 bytes. Record times are exporter-uptime ms: the boot time is the header's
 * export time minus its uptime, so a collector gets the absolute times back exactly.
 */

export const V5_HEADER_LENGTH = 24;
export const V5_RECORD_LENGTH = 48;
export const V5_MAX_RECORDS = 30;

export interface NetflowV5Header {
  /** Exporter uptime at export, ms. */
  readonly sysUptimeMs: number;
  /** Export time: seconds and nanoseconds since the Unix epoch. */
  readonly unixSecs: number;
  readonly unixNsecs: number;
  /** Flows sent before this datagram (mod 2^32). */
  readonly sequence: number;
  readonly engineType: number;
  readonly engineId: number;
  /** 2-bit sampling mode (1 = packet interval) and 14-bit interval; 0/0 when unsampled. */
  readonly samplingMode: number;
  readonly samplingInterval: number;
}

/** Encodes one v5 datagram. Throws on more than 30 records or on an IPv6 record. */
export function encodeNetflowV5(
  header: NetflowV5Header,
  records: readonly ExportFlow[],
): Uint8Array {
  if (records.length > V5_MAX_RECORDS)
    throw new Error(`NetFlow v5 carries at most ${V5_MAX_RECORDS} records, got ${records.length}`);
  const out = new Uint8Array(V5_HEADER_LENGTH + records.length * V5_RECORD_LENGTH);
  const v = new DataView(out.buffer);
  v.setUint16(0, 5);
  v.setUint16(2, records.length);
  v.setUint32(4, header.sysUptimeMs >>> 0);
  v.setUint32(8, header.unixSecs >>> 0);
  v.setUint32(12, header.unixNsecs >>> 0);
  v.setUint32(16, header.sequence >>> 0);
  v.setUint8(20, header.engineType & 0xff);
  v.setUint8(21, header.engineId & 0xff);
  v.setUint16(22, ((header.samplingMode & 0x3) << 14) | (header.samplingInterval & 0x3fff));
  const exportMs = header.unixSecs * 1000 + Math.floor(header.unixNsecs / 1_000_000);
  const bootMs = exportMs - header.sysUptimeMs;
  let off = V5_HEADER_LENGTH;
  for (const f of records) {
    if (f.ipVersion !== 4) throw new Error('NetFlow v5 carries IPv4 flows only');
    writeIpv4(out, off, f.srcAddr);
    writeIpv4(out, off + 4, f.dstAddr);
    // off + 8: next hop 0.0.0.0 (not known to a software exporter)
    writeUint(v, off + 12, 2, f.inIf);
    writeUint(v, off + 14, 2, f.outIf);
    writeUint(v, off + 16, 4, f.packets);
    writeUint(v, off + 20, 4, f.bytes);
    v.setUint32(off + 24, (Math.floor(f.startMs) - bootMs) >>> 0);
    v.setUint32(off + 28, (Math.floor(f.endMs) - bootMs) >>> 0);
    writeUint(v, off + 32, 2, f.srcPort);
    writeUint(v, off + 34, 2, f.dstPort);
    // off + 36: pad
    out[off + 37] = f.tcpFlags & 0xff;
    out[off + 38] = f.protocol & 0xff;
    out[off + 39] = f.tos & 0xff;
    // off + 40..47: AS numbers, masks, pad: 0
    off += V5_RECORD_LENGTH;
  }
  return out;
}
