/**
 * The flow record the encoders (NetFlow v5, v9, IPFIX) write, and the address and
 * integer helpers they share. Pure: bytes out, no I/O.
 */

/** One flow as the software exporter reports it. */
export interface ExportFlow {
  readonly ipVersion: 4 | 6;
  /** Dotted IPv4 or IPv6 text (any valid form; RFC 5952 is what decoders give back). */
  readonly srcAddr: string;
  readonly dstAddr: string;
  /** TCP/UDP ports; 0 for ICMP source, type * 256 + code in the ICMP destination port. */
  readonly srcPort: number;
  readonly dstPort: number;
  /** IANA protocol number. */
  readonly protocol: number;
  /** IPv4 TOS or IPv6 traffic class of the first packet. */
  readonly tos: number;
  /** OR of the TCP flags seen (8 bits in v5 and v9; up to 16 in IPFIX). */
  readonly tcpFlags: number;
  readonly packets: number;
  /** Sum of the IP total lengths. */
  readonly bytes: number;
  /** First and last packet, ms since the Unix epoch (whole ms on the wire). */
  readonly startMs: number;
  readonly endMs: number;
  /** Ingress and egress ifIndex (0 = unknown). */
  readonly inIf: number;
  readonly outIf: number;
  /** Outer 802.1Q VLAN id, 0 when untagged. */
  readonly vlan: number;
  /** Inner (customer) VLAN id of QinQ, 0 when there is none. */
  readonly innerVlan: number;
}

/** 1-in-N packet sampling announced by an exporter. */
export interface SamplingInfo {
  /** N: one packet in N is counted. */
  readonly interval: number;
  /** 1 deterministic (count-based), 2 random (RFC 3954 SAMPLING_ALGORITHM). */
  readonly algorithm: 1 | 2;
}

/** ICMP type and code as exporters carry them in the destination port (type * 256 + code). */
export function isIcmp(protocol: number): boolean {
  return protocol === 1 || protocol === 58;
}

/** Writes dotted IPv4 text as 4 bytes at `off`. Throws on text that is not IPv4. */
export function writeIpv4(out: Uint8Array, off: number, text: string): void {
  if (writeDotted(out, off, text)) return;
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${text}`);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (!Number.isInteger(n) || n < 0 || n > 255 || parts[i] === '')
      throw new Error(`not an IPv4 address: ${text}`);
    out[off + i] = n;
  }
}

/**
 * The common case of `writeIpv4` without making strings: four decimal numbers of 1-3
 * digits (no leading zeros but "0") separated by dots, each at most 255. False for
 * anything else (then the general parser decides, and throws if it must).
 */
function writeDotted(out: Uint8Array, off: number, text: string): boolean {
  const len = text.length;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255 || part > 3) return false;
      out[off + part] = value;
      part += 1;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false;
      value = value * 10 + (c - 48);
      digits += 1;
      if (digits > 3) return false;
    } else return false;
  }
  return part === 4;
}

/**
 * The common case of `writeIpv6` without making strings: groups of 1-4 hex digits
 * separated by ':', at most one '::', no dotted IPv4 tail. False for anything else
 * (then the general parser decides, and throws if it must).
 */
function writeHexGroups(out: Uint8Array, off: number, text: string): boolean {
  const len = text.length;
  const words = HEX_WORDS;
  let n = 0;
  let gapAt = -1;
  let i = 0;
  if (len >= 2 && text.charCodeAt(0) === 58 && text.charCodeAt(1) === 58) {
    gapAt = 0;
    i = 2;
    if (len === 2) i = len;
  }
  while (i < len) {
    let value = 0;
    let digits = 0;
    for (; i < len; i++) {
      const c = text.charCodeAt(i);
      const d =
        c >= 48 && c <= 57
          ? c - 48
          : c >= 97 && c <= 102
            ? c - 87
            : c >= 65 && c <= 70
              ? c - 55
              : -1;
      if (d < 0) break;
      value = (value << 4) | d;
      digits += 1;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    words[n++] = value;
    if (i === len) break;
    if (text.charCodeAt(i) !== 58) return false;
    i += 1;
    if (i < len && text.charCodeAt(i) === 58) {
      if (gapAt >= 0) return false;
      gapAt = n;
      i += 1;
    } else if (i === len) return false;
  }
  if (gapAt < 0 ? n !== 8 : n > 7) return false;
  const zeros = 8 - n;
  for (let w = 0, src = 0; w < 8; w++) {
    const v = gapAt >= 0 && w >= gapAt && w < gapAt + zeros ? 0 : (words[src++] as number);
    out[off + 2 * w] = v >>> 8;
    out[off + 2 * w + 1] = v & 0xff;
  }
  return true;
}

const HEX_WORDS = new Array<number>(8).fill(0);

/** Writes IPv6 text (with ::, and an optional dotted IPv4 tail) as 16 bytes at `off`. */
export function writeIpv6(out: Uint8Array, off: number, text: string): void {
  if (writeHexGroups(out, off, text)) return;
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > lastColon) {
    const v4 = new Uint8Array(4);
    writeIpv4(v4, 0, s.slice(lastColon + 1));
    tail.push(((v4[0] as number) << 8) | (v4[1] as number));
    tail.push(((v4[2] as number) << 8) | (v4[3] as number));
    s = s.slice(0, lastColon + 1);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const words = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').map((w) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw new Error(`not an IPv6 address: ${text}`);
      return parseInt(w, 16);
    });
  };
  const gap = s.indexOf('::');
  let all: number[];
  if (gap >= 0) {
    if (s.indexOf('::', gap + 1) >= 0) throw new Error(`not an IPv6 address: ${text}`);
    const head = words(s.slice(0, gap));
    const rest = [...words(s.slice(gap + 2)), ...tail];
    const zeros = 8 - head.length - rest.length;
    if (zeros < 1) throw new Error(`not an IPv6 address: ${text}`);
    all = [...head, ...new Array<number>(zeros).fill(0), ...rest];
  } else {
    all = [...words(s), ...tail];
  }
  if (all.length !== 8) throw new Error(`not an IPv6 address: ${text}`);
  for (let i = 0; i < 8; i++) {
    const w = all[i] as number;
    out[off + 2 * i] = w >>> 8;
    out[off + 2 * i + 1] = w & 0xff;
  }
}

/** Writes an unsigned integer of 1, 2, 4 or 8 bytes, big-endian; larger values saturate. */
export function writeUint(view: DataView, off: number, len: number, value: number): void {
  const v = Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
  switch (len) {
    case 1:
      view.setUint8(off, Math.min(v, 0xff));
      return;
    case 2:
      view.setUint16(off, Math.min(v, 0xffff));
      return;
    case 4:
      view.setUint32(off, Math.min(v, 0xffffffff));
      return;
    case 8:
      view.setUint32(off, Math.floor(v / 0x100000000) >>> 0);
      view.setUint32(off + 4, v % 0x100000000);
      return;
    default:
      throw new Error(`unsupported integer length ${len}`);
  }
}

/** A field of a template: element id, length on the wire, and how to fill it from a flow. */
export interface FlowFieldSpec {
  readonly id: number;
  readonly length: number;
  /** The value written for a flow; `boot` is the exporter's boot time (ms since the epoch). */
  readonly write: (
    out: Uint8Array,
    view: DataView,
    off: number,
    flow: ExportFlow,
    bootMs: number,
  ) => void;
}

const uint =
  (length: number, get: (f: ExportFlow) => number) =>
  (_o: Uint8Array, view: DataView, off: number, f: ExportFlow): void =>
    writeUint(view, off, length, get(f));

/** Field helpers shared by the v9 and IPFIX flow templates. */
export const FIELD = {
  src4: { id: 8, length: 4, write: (o, _v, off, f) => writeIpv4(o, off, f.srcAddr) },
  dst4: { id: 12, length: 4, write: (o, _v, off, f) => writeIpv4(o, off, f.dstAddr) },
  src6: { id: 27, length: 16, write: (o, _v, off, f) => writeIpv6(o, off, f.srcAddr) },
  dst6: { id: 28, length: 16, write: (o, _v, off, f) => writeIpv6(o, off, f.dstAddr) },
  srcPort: { id: 7, length: 2, write: uint(2, (f) => f.srcPort) },
  dstPort: { id: 11, length: 2, write: uint(2, (f) => f.dstPort) },
  protocol: { id: 4, length: 1, write: uint(1, (f) => f.protocol) },
  tos: { id: 5, length: 1, write: uint(1, (f) => f.tos) },
  tcpFlags1: { id: 6, length: 1, write: uint(1, (f) => f.tcpFlags & 0xff) },
  tcpFlags2: { id: 6, length: 2, write: uint(2, (f) => f.tcpFlags) },
  inIf: { id: 10, length: 4, write: uint(4, (f) => f.inIf) },
  outIf: { id: 14, length: 4, write: uint(4, (f) => f.outIf) },
  packets: { id: 2, length: 8, write: uint(8, (f) => f.packets) },
  bytes: { id: 1, length: 8, write: uint(8, (f) => f.bytes) },
  /** flowStartSysUpTime / flowEndSysUpTime (v9 FIRST_SWITCHED / LAST_SWITCHED), mod 2^32. */
  firstUp: {
    id: 22,
    length: 4,
    write: (_o, v, off, f, boot) => v.setUint32(off, (Math.floor(f.startMs) - boot) >>> 0),
  },
  lastUp: {
    id: 21,
    length: 4,
    write: (_o, v, off, f, boot) => v.setUint32(off, (Math.floor(f.endMs) - boot) >>> 0),
  },
  startMs: { id: 152, length: 8, write: uint(8, (f) => f.startMs) },
  endMs: { id: 153, length: 8, write: uint(8, (f) => f.endMs) },
  vlanId: { id: 58, length: 2, write: uint(2, (f) => f.vlan) },
  dot1qVlanId: { id: 243, length: 2, write: uint(2, (f) => f.vlan) },
  dot1qCustomerVlanId: { id: 245, length: 2, write: uint(2, (f) => f.innerVlan) },
  icmp4: {
    id: 32,
    length: 2,
    write: uint(2, (f) => (f.protocol === 1 ? f.dstPort : 0)),
  },
  /** v9 ICMP_TYPE: RFC 3954 defines it for any ICMP, so it serves ICMPv6 too. */
  icmpAny: {
    id: 32,
    length: 2,
    write: uint(2, (f) => (isIcmp(f.protocol) ? f.dstPort : 0)),
  },
  icmp6: {
    id: 139,
    length: 2,
    write: uint(2, (f) => (f.protocol === 58 ? f.dstPort : 0)),
  },
  ipVersion: { id: 60, length: 1, write: uint(1, (f) => f.ipVersion) },
} satisfies Record<string, FlowFieldSpec>;

/** Bytes one record of `fields` takes. */
export function recordLength(fields: readonly FlowFieldSpec[]): number {
  let n = 0;
  for (const f of fields) n += f.length;
  return n;
}

/** Writes one record of `fields` for `flow` at `off`; returns the offset after it. */
export function writeRecord(
  out: Uint8Array,
  view: DataView,
  off: number,
  fields: readonly FlowFieldSpec[],
  flow: ExportFlow,
  bootMs: number,
): number {
  let o = off;
  for (const f of fields) {
    f.write(out, view, o, flow, bootMs);
    o += f.length;
  }
  return o;
}
