// The shape of a NetFlow/IPFIX flow record as the document writer sees it: which of the
// members it writes are there (as numbers), and the few facts about their values that
// change the document's text (ICMP or not, the direction, the sampling source, one
// address or two). Records of one template layout nearly always share one shape, so a
// writer generated for a layout and a shape (document-compiled.ts) knows every member
// the document has and which comma each key takes. Addresses are IPv4 numbers or text
// (IPv6). A record with anything else (MACs, VLANs, values that are not numbers, one
// address a number and the other text, an sFlow agent) has no shape: -1, and the
// general writer writes it.
import type { ExporterInfo, FlowRecord } from './record.js';

/** One bit per fact; SAMPLING_SOURCE_SHIFT holds the sampling source's code (3 bits). */
export const S = {
  start: 1 << 0,
  end: 1 << 1,
  inInterface: 1 << 2,
  outInterface: 1 << 3,
  src: 1 << 4,
  dst: 1 << 5,
  srcPort: 1 << 6,
  dstPort: 1 << 7,
  bytes: 1 << 8,
  packets: 1 << 9,
  reverseBytes: 1 << 10,
  reversePackets: 1 << 11,
  srcAs: 1 << 12,
  dstAs: 1 << 13,
  ingress: 1 << 14,
  egress: 1 << 15,
  icmp: 1 << 16,
  icmpType: 1 << 17,
  icmpCode: 1 << 18,
  rate: 1 << 19,
  /** Bits 20-22: the sampling source's code (SAMPLING_SOURCES index + 1). */
  sameAddress: 1 << 23,
  ipv4: 1 << 24,
  uptime: 1 << 25,
  exportTime: 1 << 26,
  /** The source address as text (IPv6): no number. */
  srcText: 1 << 27,
  dstText: 1 << 28,
  ipv6: 1 << 29,
} as const;

export const SAMPLING_SOURCE_SHIFT = 20;

/** The sampling sources a shape can hold, by code - 1. */
export const SAMPLING_SOURCES: readonly string[] = [
  'header',
  'record',
  'options',
  'sample',
  'config-default',
  'config-override',
];

/** A number member: its bit when it is a number, 0 when absent, -1 for anything else. */
function numberBit(v: unknown, bit: number): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? bit : -1;
}

/**
 * The shape of a flow record of a NetFlow/IPFIX exporter (the caller checked both), or
 * -1 when the general writer must write it.
 */
export function shapeOf(r: FlowRecord, ex: ExporterInfo): number {
  const p = r.protocol;
  if (!(typeof p === 'number' && p >= 0 && p <= 255 && (p | 0) === p)) return -1;
  if (ex.agent !== undefined || typeof ex.sequence !== 'number') return -1;
  if (r.srcMac !== undefined || r.dstMac !== undefined) return -1;
  if (r.vlan !== undefined || r.innerVlan !== undefined) return -1;
  let m = 0;
  // Addresses as numbers (IPv4), else as text (IPv6); the text is read only when there is
  // no number (reading it on a NetflowRecord would make it). A record with one of each
  // is left to the general writer (it compares their text).
  const src = r.srcIpv4;
  const dst = r.dstIpv4;
  if (src !== undefined || dst !== undefined) {
    if (src !== undefined) {
      if (typeof src !== 'number') return -1;
      m |= S.src;
    } else if (r.srcAddr !== undefined) return -1;
    if (dst !== undefined) {
      if (typeof dst !== 'number') return -1;
      m |= S.dst;
      if (src === dst) m |= S.sameAddress;
    } else if (r.dstAddr !== undefined) return -1;
  } else {
    const srcText = r.srcAddr;
    const dstText = r.dstAddr;
    if (srcText !== undefined) {
      if (typeof srcText !== 'string') return -1;
      m |= S.srcText;
    }
    if (dstText !== undefined) {
      if (typeof dstText !== 'string') return -1;
      m |= S.dstText;
      if (srcText === dstText) m |= S.sameAddress;
    }
  }
  const v = r.ipVersion;
  if (v === 4) m |= S.ipv4;
  else if (v === 6) m |= S.ipv6;
  else if (v !== undefined) return -1;
  const d = r.direction;
  if (d === 'ingress') m |= S.ingress;
  else if (d === 'egress') m |= S.egress;
  else if (d !== undefined && d !== 'unknown') return -1;
  if (p === 1 || p === 58) {
    m |= S.icmp;
    const bits = numberBit(r.icmpType, S.icmpType) | numberBit(r.icmpCode, S.icmpCode);
    if (bits < 0) return -1;
    m |= bits;
  }
  const rate = r.samplingRate;
  if (rate !== undefined) {
    if (typeof rate !== 'number') return -1;
    m |= S.rate;
    const source = r.samplingSource;
    if (source !== undefined) {
      const code = SAMPLING_SOURCES.indexOf(source);
      if (code < 0) return -1;
      m |= (code + 1) << SAMPLING_SOURCE_SHIFT;
    }
  }
  // Any bit -1 makes the whole -1.
  const bits =
    numberBit(r.startMs, S.start) |
    numberBit(r.endMs, S.end) |
    numberBit(r.inInterface, S.inInterface) |
    numberBit(r.outInterface, S.outInterface) |
    numberBit(r.srcPort, S.srcPort) |
    numberBit(r.dstPort, S.dstPort) |
    numberBit(r.bytes, S.bytes) |
    numberBit(r.packets, S.packets) |
    numberBit(r.reverseBytes, S.reverseBytes) |
    numberBit(r.reversePackets, S.reversePackets) |
    numberBit(r.srcAs, S.srcAs) |
    numberBit(r.dstAs, S.dstAs) |
    numberBit(ex.uptimeMs, S.uptime) |
    numberBit(ex.exportTimeMs, S.exportTime);
  if (bits < 0) return -1;
  return m | bits;
}
