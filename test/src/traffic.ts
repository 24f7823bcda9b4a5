/**
 * Synthetic traffic with known totals: writes a classic pcap (Ethernet, optional 802.1Q
 * tag) of IPv4/IPv6 TCP, UDP and ICMP packets for a list of flows, and returns what a
 * flow exporter must report for each flow (packets, bytes counted as IP total length,
 * first and last packet times, OR of the TCP flags). Pure and deterministic: the same
 * flows and seed give the same bytes. Headers follow RFC 791 (IPv4, with its header
 * checksum), RFC 8200 (IPv6), RFC 9293 (TCP), RFC 768 (UDP), RFC 792/4443 (ICMP);
 * transport checksums are computed too, so tcpreplay and tshark see valid packets.
 */
import { writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';

export type TrafficProto = 'tcp' | 'udp' | 'icmp';

export interface FlowSpec {
  /** Source and destination address, both IPv4 or both IPv6. */
  src: string;
  dst: string;
  proto: TrafficProto;
  /** TCP/UDP ports (ignored for ICMP). */
  sport?: number;
  dport?: number;
  /** ICMP type and code (default echo request: 8/0 over IPv4, 128/0 over IPv6). */
  icmpType?: number;
  icmpCode?: number;
  packets: number;
  /** IP total length of every packet (IPv6: 40 + payload length). */
  bytesPerPacket?: number;
  /** IP total length per packet (length = packets); wins over bytesPerPacket. */
  sizes?: readonly number[];
  /** IP total lengths drawn from [min, max] with the seeded generator. */
  sizeRange?: readonly [number, number];
  /** 802.1Q VLAN id of the frames. */
  vlan?: number;
  /**
   * QinQ (IEEE 802.1ad): with `vlan`, the frames carry an S-tag (TPID 0x88a8) with `vlan`
   * and then a C-tag (0x8100) with this customer VLAN id.
   */
  innerVlan?: number;
  /** Time of the first packet, ms since the epoch (fractions down to µs are kept). */
  startMs: number;
  /** Time between consecutive packets of this flow, ms. */
  gapMs: number;
  /** TCP flags: one value for every packet, or one per packet (the last one repeats). */
  tcpFlags?: number | readonly number[];
  /** IPv4 TOS / IPv6 traffic class. */
  tos?: number;
}

/** What an exporter must report for a generated flow. */
export interface ExpectedFlow {
  /** Position in the list given to the generator. */
  index: number;
  ipVersion: 4 | 6;
  /** Addresses in canonical text (dotted IPv4, RFC 5952 IPv6). */
  src: string;
  dst: string;
  /** IANA protocol number (6, 17, 1 or 58). */
  protocol: number;
  /** 0 for ICMP. */
  srcPort: number;
  dstPort: number;
  icmpType: number | undefined;
  icmpCode: number | undefined;
  vlan: number | undefined;
  /** Customer (inner) VLAN id of a QinQ flow. */
  innerVlan: number | undefined;
  tos: number;
  packets: number;
  /** Sum of the IP total lengths (IPv4 header total length; IPv6 40 + payload length). */
  bytes: number;
  /** Sum of the Ethernet frame lengths (with VLAN tag and padding to 60 bytes). */
  frameBytes: number;
  /**
   * Sum of the frame bytes after the link header (Ethernet and VLAN tag): the IP total
   * length plus any Ethernet padding. softflowd counts these, not the IP total length.
   */
  linkPayloadBytes: number;
  /** Time of the first and last packet, ms since the epoch (µs precision). */
  firstMs: number;
  lastMs: number;
  /** OR of the flags of every packet; undefined for UDP and ICMP. */
  tcpFlags: number | undefined;
}

export interface GeneratedTraffic {
  /** The classic pcap file (microsecond timestamps, link type Ethernet). */
  pcap: Uint8Array;
  flows: ExpectedFlow[];
  /** Number of frames in the file. */
  frames: number;
}

export interface TrafficOptions {
  /** Seed of the payload bytes and of sizeRange draws. */
  seed?: number;
}

const ETH_MIN = 60;
const MIN_IP_LEN: Record<TrafficProto, [number, number]> = {
  tcp: [40, 60],
  udp: [28, 48],
  icmp: [28, 48],
};

/** mulberry32: small, fast, good enough to make payloads and sizes reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Dotted IPv4 text as 4 bytes; throws on anything else. */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !(Number.isInteger(n) && n >= 0 && n <= 255)))
    throw new Error(`bad IPv4 ${text}`);
  return Uint8Array.from(parts);
}

/** IPv6 text (with ::, and an optional dotted IPv4 tail) as 16 bytes; throws if invalid. */
export function parseIpv6(text: string): Uint8Array {
  let s = text;
  const words: number[] = [];
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) becomes two words.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tail: number[] = [];
  if (dotted) {
    const b = parseIpv4(dotted[1] as string);
    tail = [((b[0] as number) << 8) | (b[1] as number), ((b[2] as number) << 8) | (b[3] as number)];
    s = s.slice(0, -(dotted[1] as string).length);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const gap = s.indexOf('::');
  if (gap >= 0) {
    const head = parse(s.slice(0, gap));
    const rest = [...parse(s.slice(gap + 2)), ...tail];
    words.push(...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest);
  } else words.push(...parse(s), ...tail);
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff)))
    throw new Error(`bad IPv6 ${text}`);
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952 text of 16 address bytes. */
export function ipv6Text(b: Uint8Array): string {
  const words = Array.from(
    { length: 8 },
    (_, i) => ((b[2 * i] as number) << 8) | (b[2 * i + 1] as number),
  );
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Internet checksum (RFC 1071) over the given byte ranges, as if concatenated. */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const p of parts) {
    for (const byte of p) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

interface Packet {
  timeUs: number;
  flow: number;
  seq: number;
  frame: Uint8Array;
}

function macOf(prefix: number, n: number): Uint8Array {
  return Uint8Array.from([0x02, prefix, 0, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function sizesOf(spec: FlowSpec, rand: () => number): number[] {
  if (spec.sizes) {
    if (spec.sizes.length !== spec.packets)
      throw new Error(
        `flow ${spec.src}->${spec.dst}: sizes has ${spec.sizes.length} entries for ${spec.packets} packets`,
      );
    return [...spec.sizes];
  }
  if (spec.sizeRange) {
    const [lo, hi] = spec.sizeRange;
    return Array.from({ length: spec.packets }, () => lo + Math.floor(rand() * (hi - lo + 1)));
  }
  if (spec.bytesPerPacket === undefined)
    throw new Error(`flow ${spec.src}->${spec.dst}: give bytesPerPacket, sizes or sizeRange`);
  return new Array<number>(spec.packets).fill(spec.bytesPerPacket);
}

/** Generates the capture and the expected per-flow totals. */
export function generateTraffic(
  specs: readonly FlowSpec[],
  opts: TrafficOptions = {},
): GeneratedTraffic {
  const rand = prng(opts.seed ?? 1);
  const packets: Packet[] = [];
  const flows: ExpectedFlow[] = [];
  let ipId = 1;
  specs.forEach((spec, index) => {
    const v6 = isIPv6(spec.src);
    if (v6 ? !isIPv6(spec.dst) : !(isIPv4(spec.src) && isIPv4(spec.dst)))
      throw new Error(`flow ${index}: ${spec.src} and ${spec.dst} must be both IPv4 or both IPv6`);
    if (spec.packets < 1) throw new Error(`flow ${index}: needs at least one packet`);
    const src = v6 ? parseIpv6(spec.src) : parseIpv4(spec.src);
    const dst = v6 ? parseIpv6(spec.dst) : parseIpv4(spec.dst);
    const protocol = spec.proto === 'tcp' ? 6 : spec.proto === 'udp' ? 17 : v6 ? 58 : 1;
    const icmp = spec.proto === 'icmp';
    const icmpType = icmp ? (spec.icmpType ?? (v6 ? 128 : 8)) : undefined;
    const icmpCode = icmp ? (spec.icmpCode ?? 0) : undefined;
    const sport = icmp ? 0 : (spec.sport ?? 0);
    const dport = icmp ? 0 : (spec.dport ?? 0);
    const tos = spec.tos ?? 0;
    const sizes = sizesOf(spec, rand);
    const minLen = (MIN_IP_LEN[spec.proto] as [number, number])[v6 ? 1 : 0];
    const exp: ExpectedFlow = {
      index,
      ipVersion: v6 ? 6 : 4,
      src: v6 ? ipv6Text(src) : spec.src,
      dst: v6 ? ipv6Text(dst) : spec.dst,
      protocol,
      srcPort: sport,
      dstPort: dport,
      icmpType,
      icmpCode,
      vlan: spec.vlan,
      innerVlan: spec.vlan !== undefined ? spec.innerVlan : undefined,
      tos,
      packets: spec.packets,
      bytes: 0,
      frameBytes: 0,
      linkPayloadBytes: 0,
      firstMs: 0,
      lastMs: 0,
      tcpFlags: spec.proto === 'tcp' ? 0 : undefined,
    };
    const startUs = Math.round(spec.startMs * 1000);
    const gapUs = Math.round(spec.gapMs * 1000);
    for (let i = 0; i < spec.packets; i++) {
      const ipLen = sizes[i] as number;
      if (ipLen < minLen || ipLen > 65535)
        throw new Error(`flow ${index}: packet size ${ipLen} outside ${minLen}..65535`);
      const flagsSpec = spec.tcpFlags ?? 0x10;
      const flags =
        typeof flagsSpec === 'number'
          ? flagsSpec
          : ((flagsSpec[Math.min(i, flagsSpec.length - 1)] as number | undefined) ?? 0x10);
      const l4Len = ipLen - (v6 ? 40 : 20);
      const l4 = new Uint8Array(l4Len);
      const l4v = new DataView(l4.buffer);
      const hdr = spec.proto === 'tcp' ? 20 : 8;
      for (let k = hdr; k < l4Len; k++) l4[k] = Math.floor(rand() * 256);
      if (spec.proto === 'tcp') {
        l4v.setUint16(0, sport);
        l4v.setUint16(2, dport);
        l4v.setUint32(4, (1000 + i * 1460) >>> 0);
        l4v.setUint32(8, flags & 0x10 ? 1 : 0);
        l4[12] = 5 << 4;
        l4[13] = flags & 0xff;
        l4v.setUint16(14, 65535);
        if (exp.tcpFlags !== undefined) exp.tcpFlags |= flags & 0xff;
      } else if (spec.proto === 'udp') {
        l4v.setUint16(0, sport);
        l4v.setUint16(2, dport);
        l4v.setUint16(4, l4Len);
      } else {
        l4[0] = icmpType as number;
        l4[1] = icmpCode as number;
        l4v.setUint16(4, 0x1234 + index);
        l4v.setUint16(6, i);
      }
      // Pseudo-header checksums (ICMPv4 has none).
      const pseudo = new Uint8Array(v6 ? 40 : 12);
      const pv = new DataView(pseudo.buffer);
      if (v6) {
        pseudo.set(src, 0);
        pseudo.set(dst, 16);
        pv.setUint32(32, l4Len);
        pseudo[39] = protocol;
      } else {
        pseudo.set(src, 0);
        pseudo.set(dst, 4);
        pseudo[9] = protocol;
        pv.setUint16(10, l4Len);
      }
      const csumAt = spec.proto === 'tcp' ? 16 : spec.proto === 'udp' ? 6 : 2;
      let c = protocol === 1 ? internetChecksum(l4) : internetChecksum(pseudo, l4);
      if (spec.proto === 'udp' && c === 0) c = 0xffff;
      l4v.setUint16(csumAt, c);

      const ip = new Uint8Array(v6 ? 40 : 20);
      const iv = new DataView(ip.buffer);
      if (v6) {
        iv.setUint32(0, (6 << 28) | ((tos & 0xff) << 20) | (index & 0xfffff));
        iv.setUint16(4, l4Len);
        ip[6] = protocol;
        ip[7] = 64;
        ip.set(src, 8);
        ip.set(dst, 24);
      } else {
        ip[0] = 0x45;
        ip[1] = tos;
        iv.setUint16(2, ipLen);
        iv.setUint16(4, ipId++ & 0xffff);
        iv.setUint16(6, 0x4000);
        ip[8] = 64;
        ip[9] = protocol;
        ip.set(src, 12);
        ip.set(dst, 16);
        iv.setUint16(10, internetChecksum(ip));
      }

      const qinq = spec.vlan !== undefined && spec.innerVlan !== undefined;
      const tag = spec.vlan === undefined ? 0 : qinq ? 8 : 4;
      const frameLen = Math.max(ETH_MIN, 14 + tag + ipLen);
      const frame = new Uint8Array(frameLen);
      const fv = new DataView(frame.buffer);
      frame.set(macOf(0xd0, index), 0);
      frame.set(macOf(0x5c, index), 6);
      if (spec.vlan !== undefined) {
        fv.setUint16(12, qinq ? 0x88a8 : 0x8100);
        fv.setUint16(14, spec.vlan & 0x0fff);
      }
      if (qinq) {
        fv.setUint16(16, 0x8100);
        fv.setUint16(18, (spec.innerVlan as number) & 0x0fff);
      }
      fv.setUint16(12 + tag, v6 ? 0x86dd : 0x0800);
      frame.set(ip, 14 + tag);
      frame.set(l4, 14 + tag + ip.length);

      const timeUs = startUs + i * gapUs;
      packets.push({ timeUs, flow: index, seq: i, frame });
      exp.bytes += ipLen;
      exp.frameBytes += frameLen;
      exp.linkPayloadBytes += frameLen - 14 - tag;
      if (i === 0) exp.firstMs = timeUs / 1000;
      exp.lastMs = timeUs / 1000;
    }
    flows.push(exp);
  });
  packets.sort((a, b) => a.timeUs - b.timeUs || a.flow - b.flow || a.seq - b.seq);
  return {
    pcap: pcapFile(packets.map((p) => ({ timeUs: p.timeUs, frame: p.frame }))),
    flows,
    frames: packets.length,
  };
}

/** Generates the traffic and writes its pcap to `file`. */
export function writeTraffic(
  file: string,
  specs: readonly FlowSpec[],
  opts: TrafficOptions = {},
): GeneratedTraffic {
  const g = generateTraffic(specs, opts);
  writeFileSync(file, g.pcap);
  return g;
}

/** One record of a classic pcap file. */
export interface PcapFrame {
  /** The captured bytes. */
  readonly frame: Uint8Array;
  /** Capture time, µs since the epoch (or give `sec` and `frac`). */
  readonly timeUs?: number;
  /** Capture time as the record header holds it: seconds, and µs (ns in a ns file). */
  readonly sec?: number;
  readonly frac?: number;
  /** Length on the wire (default: the frame's length). */
  readonly origLength?: number;
}

export interface PcapWriteOptions {
  /** LINKTYPE_ value (default 1, Ethernet). */
  readonly linkType?: number;
  /** Nanosecond timestamps (magic a1b23c4d). */
  readonly nanoseconds?: boolean;
  /** Written by a big-endian host. */
  readonly bigEndian?: boolean;
  readonly snapLength?: number;
}

/**
 * A classic pcap file (draft-ietf-opsawg-pcap): by default little-endian, microsecond
 * timestamps, Ethernet. The one pcap writer of the tests.
 */
export function pcapFile(frames: readonly PcapFrame[], opts: PcapWriteOptions = {}): Uint8Array {
  const le = !opts.bigEndian;
  let size = 24;
  for (const f of frames) size += 16 + f.frame.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, opts.snapLength ?? 262144, le);
  v.setUint32(20, opts.linkType ?? 1, le);
  let off = 24;
  for (const f of frames) {
    const us = f.timeUs ?? 0;
    const sec = f.sec ?? Math.floor(us / 1e6);
    const frac = f.frac ?? (us % 1e6) * (opts.nanoseconds ? 1000 : 1);
    v.setUint32(off, sec, le);
    v.setUint32(off + 4, frac, le);
    v.setUint32(off + 8, f.frame.length, le);
    v.setUint32(off + 12, f.origLength ?? f.frame.length, le);
    out.set(f.frame, off + 16);
    off += 16 + f.frame.length;
  }
  return out;
}

/**
 * An Ethernet/IP/UDP frame around a payload (IPv4 with header checksum and UDP
 * checksum 0, or IPv6 with a computed UDP checksum), for writing received export
 * datagrams into a capture that tshark can read.
 */
export function udpFrame(
  src: string,
  srcPort: number,
  dst: string,
  dstPort: number,
  payload: Uint8Array,
): Uint8Array {
  const v6 = isIPv6(src);
  const s = v6 ? parseIpv6(src) : parseIpv4(src);
  const d = v6 ? parseIpv6(dst) : parseIpv4(dst);
  const udpLen = 8 + payload.length;
  const ipHdr = v6 ? 40 : 20;
  const frame = new Uint8Array(Math.max(ETH_MIN, 14 + ipHdr + udpLen));
  const fv = new DataView(frame.buffer);
  frame.set(macOf(0, 1), 0);
  frame.set(macOf(0, 2), 6);
  fv.setUint16(12, v6 ? 0x86dd : 0x0800);
  const ip = frame.subarray(14, 14 + ipHdr);
  const iv = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
  const udp = frame.subarray(14 + ipHdr, 14 + ipHdr + udpLen);
  const uv = new DataView(udp.buffer, udp.byteOffset, udp.byteLength);
  uv.setUint16(0, srcPort);
  uv.setUint16(2, dstPort);
  uv.setUint16(4, udpLen > 0xffff ? 0 : udpLen);
  udp.set(payload, 8);
  if (v6) {
    iv.setUint32(0, 6 << 28);
    iv.setUint16(4, udpLen);
    ip[6] = 17;
    ip[7] = 64;
    ip.set(s, 8);
    ip.set(d, 24);
    const pseudo = new Uint8Array(40);
    pseudo.set(s, 0);
    pseudo.set(d, 16);
    new DataView(pseudo.buffer).setUint32(32, udpLen);
    pseudo[39] = 17;
    const c = internetChecksum(pseudo, udp);
    uv.setUint16(6, c === 0 ? 0xffff : c);
  } else {
    ip[0] = 0x45;
    iv.setUint16(2, Math.min(0xffff, ipHdr + udpLen));
    ip[8] = 64;
    ip[9] = 17;
    ip.set(s, 12);
    ip.set(d, 16);
    iv.setUint16(10, internetChecksum(ip));
  }
  return frame;
}

export interface MixOptions {
  /** Include the IPv6 flows (TCP, UDP, ICMPv6). Default true. */
  ipv6?: boolean;
  /** Tag some flows with 802.1Q VLAN ids. Default true. */
  vlan?: boolean;
  /** Number of small extra UDP flows (to fill several export datagrams). Default 60. */
  bulk?: number;
  /**
   * Add a QinQ flow (S-tag 300, C-tag 12; UDP 10.9.0.1:4000 > 10.9.0.2:4001, 30 packets
   * of 128 bytes from 30.5 ms). Default false.
   */
  qinq?: boolean;
}

const S = 0x02;
const A = 0x10;
const PA = 0x18;
const FA = 0x11;
const SA = 0x12;
const R = 0x04;

/**
 * A ready-made mix for exporter tests, all within about one second from `startMs`:
 * a TCP conversation in both directions with a flag sequence, a reset TCP flow, UDP
 * flows with fixed, random, tiny and full-size packets (one of 200 packets), ICMP echo
 * request/reply and destination unreachable, optional VLAN-tagged and IPv6 flows
 * (TCP, UDP, ICMPv6 echo and port unreachable), and `bulk` small UDP flows. Every
 * 5-tuple is unique, so exporters that ignore VLAN ids or TOS still see one flow each.
 */
export function mixedFlows(startMs: number, opts: MixOptions = {}): FlowSpec[] {
  const vlan = opts.vlan ?? true;
  const tagged = (id: number) => (vlan ? { vlan: id } : {});
  const t = (ms: number) => startMs + ms;
  const flows: FlowSpec[] = [
    {
      src: '10.1.0.1',
      dst: '10.2.0.1',
      proto: 'tcp',
      sport: 40001,
      dport: 443,
      packets: 9,
      sizeRange: [40, 1500],
      startMs: t(0),
      gapMs: 13.37,
      tcpFlags: [S, A, PA, PA, PA, PA, A, FA, A],
    },
    {
      src: '10.2.0.1',
      dst: '10.1.0.1',
      proto: 'tcp',
      sport: 443,
      dport: 40001,
      packets: 6,
      sizeRange: [40, 1500],
      startMs: t(6.1),
      gapMs: 17.9,
      tcpFlags: [SA, A, PA, PA, FA, A],
    },
    {
      src: '10.1.0.5',
      dst: '10.2.0.5',
      proto: 'tcp',
      sport: 40002,
      dport: 22,
      packets: 2,
      bytesPerPacket: 40,
      startMs: t(3.3),
      gapMs: 1.001,
      tcpFlags: [S, R],
    },
    {
      src: '10.1.0.2',
      dst: '10.2.0.2',
      proto: 'udp',
      sport: 5000,
      dport: 6000,
      packets: 4,
      bytesPerPacket: 300,
      tos: 0xb8,
      startMs: t(1.5),
      gapMs: 21,
      ...tagged(42),
    },
    {
      src: '10.1.0.6',
      dst: '10.2.0.6',
      proto: 'udp',
      sport: 7000,
      dport: 7001,
      packets: 200,
      bytesPerPacket: 1500,
      startMs: t(4.4),
      gapMs: 2,
    },
    {
      src: '10.1.0.8',
      dst: '10.2.0.8',
      proto: 'udp',
      sport: 7002,
      dport: 7003,
      packets: 5,
      bytesPerPacket: 28,
      startMs: t(5.5),
      gapMs: 0.5,
    },
    {
      src: '10.1.0.3',
      dst: '10.2.0.3',
      proto: 'icmp',
      icmpType: 8,
      packets: 3,
      bytesPerPacket: 84,
      startMs: t(2.2),
      gapMs: 100,
    },
    {
      src: '10.2.0.3',
      dst: '10.1.0.3',
      proto: 'icmp',
      icmpType: 0,
      packets: 3,
      bytesPerPacket: 84,
      startMs: t(2.9),
      gapMs: 100,
    },
    {
      src: '10.1.0.3',
      dst: '10.2.0.3',
      proto: 'icmp',
      icmpType: 3,
      icmpCode: 3,
      packets: 1,
      bytesPerPacket: 56,
      startMs: t(7.7),
      gapMs: 1,
    },
    {
      src: '10.1.0.7',
      dst: '10.2.0.7',
      proto: 'tcp',
      sport: 1234,
      dport: 80,
      packets: 3,
      bytesPerPacket: 576,
      tos: 0x20,
      startMs: t(8.8),
      gapMs: 33.3,
      tcpFlags: PA,
      ...tagged(43),
    },
  ];
  if (opts.ipv6 ?? true) {
    flows.push(
      {
        src: '2001:db8::1',
        dst: '2001:db8::2',
        proto: 'tcp',
        sport: 40003,
        dport: 80,
        packets: 5,
        sizeRange: [60, 1500],
        startMs: t(9.1),
        gapMs: 11,
        tcpFlags: [S, A, PA, PA, FA],
      },
      {
        src: '2001:db8::1',
        dst: '2001:db8:0:0:1::2',
        proto: 'udp',
        sport: 1000,
        dport: 2000,
        packets: 4,
        bytesPerPacket: 200,
        startMs: t(10.2),
        gapMs: 50,
        ...tagged(7),
      },
      {
        src: '2001:db8::1',
        dst: '2001:db8::2',
        proto: 'icmp',
        packets: 2,
        bytesPerPacket: 104,
        startMs: t(11.3),
        gapMs: 50,
      },
      {
        src: '2001:db8::2',
        dst: '2001:db8::1',
        proto: 'icmp',
        icmpType: 1,
        icmpCode: 4,
        packets: 1,
        bytesPerPacket: 96,
        startMs: t(12.4),
        gapMs: 1,
      },
    );
  }
  if (opts.qinq)
    flows.push({
      src: '10.9.0.1',
      dst: '10.9.0.2',
      proto: 'udp',
      sport: 4000,
      dport: 4001,
      packets: 30,
      bytesPerPacket: 128,
      vlan: 300,
      innerVlan: 12,
      startMs: t(30.5),
      gapMs: 9.9,
    });
  for (let i = 0; i < (opts.bulk ?? 60); i++) {
    flows.push({
      src: `10.3.${i}.1`,
      dst: `10.4.0.${i + 1}`,
      proto: 'udp',
      sport: 10000 + i,
      dport: 20000,
      packets: 1 + (i % 5),
      sizeRange: [28, 1400],
      startMs: t(20 + i * 7.3),
      gapMs: 3.1,
    });
  }
  return flows;
}

/**
 * Filler after the real traffic (192.0.2.0/24, TEST-NET-1): pmacct sfprobe never sends
 * its last partly filled datagram, so the packets that matter must not be the last.
 */
export function fillerFlow(startMs: number, packets = 40): FlowSpec {
  return {
    src: '192.0.2.1',
    dst: '192.0.2.2',
    proto: 'udp',
    sport: 9,
    dport: 9,
    packets,
    bytesPerPacket: 64,
    startMs,
    gapMs: 1,
  };
}
