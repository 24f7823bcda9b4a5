// Builders of packets and capture files for tests: IPv4/IPv6/UDP packets, fragments, link
// headers, pcap and pcapng files. Pure (they return bytes; tests write them). What they
// build is checked by tshark, never by the reader under test alone.
import { internetChecksum, parseIpv4, parseIpv6, pcapFile as writePcapFile } from '@sluice/testkit';

// The address parsers, the checksum and the pcap writer are the testkit's (one of each
// for all the tests); the rest builds what only the capture tests need.
export { parseIpv4, parseIpv6 };

export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatAll(parts);
}

/** concat for long lists (no argument spreading). */
export function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function be16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** A UDP header + payload with a correct checksum for the given IP addresses. */
export function udpSegment(
  src: Uint8Array,
  dst: Uint8Array,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
): Uint8Array {
  const len = 8 + payload.length;
  const seg = concat(
    Uint8Array.from([...be16(srcPort), ...be16(dstPort), ...be16(len), 0, 0]),
    payload,
  );
  const pseudo =
    src.length === 4
      ? Uint8Array.from([...src, ...dst, 0, 17, ...be16(len)])
      : Uint8Array.from([...src, ...dst, ...be32(len), 0, 0, 0, 17]);
  let c = internetChecksum(pseudo, seg);
  if (c === 0) c = 0xffff;
  seg[6] = c >> 8;
  seg[7] = c & 0xff;
  return seg;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol?: number;
  id?: number;
  moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number;
  dontFragment?: boolean;
  ttl?: number;
  /** IP options (padded to 4 bytes by the caller). */
  options?: Uint8Array;
}

export function ipv4Packet(o: Ipv4Options, payload: Uint8Array): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const ihl = 20 + opts.length;
  const flags =
    (o.moreFragments ? 0x2000 : 0) | (o.dontFragment ? 0x4000 : 0) | ((o.fragmentOffset ?? 0) / 8);
  const h = Uint8Array.from([
    0x40 | (ihl / 4),
    0,
    ...be16(ihl + payload.length),
    ...be16(o.id ?? 0),
    ...be16(flags),
    o.ttl ?? 64,
    o.protocol ?? 17,
    0,
    0,
    ...parseIpv4(o.src),
    ...parseIpv4(o.dst),
    ...opts,
  ]);
  const c = internetChecksum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return concat(h, payload);
}

/** An IPv6 packet: `payload` holds any extension headers, chained from `next`. */
export function ipv6Packet(
  src: string,
  dst: string,
  next: number,
  payload: Uint8Array,
  hopLimit = 64,
): Uint8Array {
  const h = Uint8Array.from([
    0x60,
    0,
    0,
    0,
    ...be16(payload.length),
    next,
    hopLimit,
    ...parseIpv6(src),
    ...parseIpv6(dst),
  ]);
  return concat(h, payload);
}

/** A generic IPv6 extension header (hop-by-hop, destination options) of `8 * units` bytes. */
export function ipv6Options(next: number, units = 1): Uint8Array {
  const b = new Uint8Array(8 * units);
  b[0] = next;
  b[1] = units - 1;
  // PadN filling the rest: type 1, length.
  b[2] = 1;
  b[3] = b.length - 4;
  return b;
}

export function ipv6FragmentHeader(
  next: number,
  offset: number,
  more: boolean,
  id: number,
): Uint8Array {
  return Uint8Array.from([next, 0, ...be16(offset | (more ? 1 : 0)), ...be32(id)]);
}

/** A UDP datagram over IPv4, whole. */
export function udp4(
  src: string,
  dst: string,
  sp: number,
  dp: number,
  payload: Uint8Array,
  id = 0,
) {
  return ipv4Packet({ src, dst, id }, udpSegment(parseIpv4(src), parseIpv4(dst), sp, dp, payload));
}

/** A UDP datagram over IPv6, whole, after optional extension headers (chained to UDP). */
export function udp6(
  src: string,
  dst: string,
  sp: number,
  dp: number,
  payload: Uint8Array,
  ext: Uint8Array[] = [],
) {
  const seg = udpSegment(parseIpv6(src), parseIpv6(dst), sp, dp, payload);
  return ipv6Packet(src, dst, ext.length ? 0 : 17, concat(...ext, seg));
}

/** Cuts `segment` (a whole UDP header + payload) into IPv4 fragments of at most `size` data bytes. */
export function fragment4(o: Ipv4Options, segment: Uint8Array, size: number): Uint8Array[] {
  const step = size - (size % 8);
  const out: Uint8Array[] = [];
  for (let off = 0; off < segment.length; off += step) {
    const part = segment.subarray(off, Math.min(off + step, segment.length));
    const more = off + step < segment.length;
    out.push(ipv4Packet({ ...o, fragmentOffset: off, moreFragments: more }, part));
  }
  return out;
}

/**
 * Cuts `fragmentable` (what follows the Fragment header: extension headers then UDP) into
 * IPv6 fragments of at most `size` data bytes; `unfragmentable` headers (chained to 44)
 * precede the Fragment header in each.
 */
export function fragment6(
  src: string,
  dst: string,
  next: number,
  fragmentable: Uint8Array,
  size: number,
  id: number,
  unfragmentable?: { first: number; headers: Uint8Array },
): Uint8Array[] {
  const step = size - (size % 8);
  const out: Uint8Array[] = [];
  for (let off = 0; off < fragmentable.length; off += step) {
    const part = fragmentable.subarray(off, Math.min(off + step, fragmentable.length));
    const more = off + step < fragmentable.length;
    const fh = ipv6FragmentHeader(next, off, more, id);
    const payload = unfragmentable ? concat(unfragmentable.headers, fh, part) : concat(fh, part);
    out.push(ipv6Packet(src, dst, unfragmentable ? unfragmentable.first : 44, payload));
  }
  return out;
}

export const ETH_SRC = Uint8Array.from([0x02, 0, 0, 0, 0, 0x01]);
export const ETH_DST = Uint8Array.from([0x02, 0, 0, 0, 0, 0x02]);

export function ethernet(etherType: number, payload: Uint8Array, vlans: [number, number][] = []) {
  const tags = vlans.flatMap(([tpid, vid]) => [...be16(tpid), ...be16(vid)]);
  return concat(ETH_DST, ETH_SRC, Uint8Array.from([...tags, ...be16(etherType)]), payload);
}

export function sll(protocol: number, payload: Uint8Array, packetType = 0) {
  return concat(
    Uint8Array.from([
      ...be16(packetType),
      ...be16(1),
      ...be16(6),
      ...ETH_SRC,
      0,
      0,
      ...be16(protocol),
    ]),
    payload,
  );
}

export function sll2(protocol: number, payload: Uint8Array, ifindex = 2) {
  return concat(
    Uint8Array.from([
      ...be16(protocol),
      0,
      0,
      ...be32(ifindex),
      ...be16(1),
      0,
      6,
      ...ETH_SRC,
      0,
      0,
    ]),
    payload,
  );
}

/** BSD loopback header: the address family in the given byte order. */
export function nullHeader(family: number, payload: Uint8Array, littleEndian: boolean) {
  const h = littleEndian ? be32(family).reverse() : be32(family);
  return concat(Uint8Array.from(h), payload);
}

export interface PcapRecord {
  sec: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  frac: number;
  data: Uint8Array;
  origLength?: number;
}

export interface PcapFileOptions {
  linkType: number;
  nanoseconds?: boolean;
  bigEndian?: boolean;
  snapLength?: number;
}

export function pcapFile(o: PcapFileOptions, records: PcapRecord[]): Uint8Array {
  return writePcapFile(
    records.map((r) => ({
      frame: r.data,
      sec: r.sec,
      frac: r.frac,
      ...(r.origLength !== undefined ? { origLength: r.origLength } : {}),
    })),
    o,
  );
}

export type PcapngBlock =
  | {
      type: 'idb';
      linkType: number;
      snapLength?: number;
      tsresol?: number;
      tsoffset?: bigint;
      name?: string;
    }
  | {
      type: 'epb';
      iface: number;
      ts: bigint;
      data: Uint8Array;
      origLength?: number;
      comment?: string;
    }
  | { type: 'pb'; iface: number; ts: bigint; data: Uint8Array; origLength?: number }
  | { type: 'spb'; data: Uint8Array; origLength?: number }
  | { type: 'other'; blockType: number; body: Uint8Array };

export interface PcapngSection {
  bigEndian?: boolean;
  blocks: PcapngBlock[];
}

class Out {
  private readonly chunks: Uint8Array[] = [];
  constructor(private readonly le: boolean) {}
  u8(n: number) {
    this.chunks.push(Uint8Array.of(n));
  }
  u16(n: number) {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, n, this.le);
    this.chunks.push(b);
  }
  u32(n: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, this.le);
    this.chunks.push(b);
  }
  i64(n: bigint) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, n, this.le);
    this.chunks.push(b);
  }
  bytes(b: Uint8Array) {
    this.chunks.push(b);
    const pad = (4 - (b.length % 4)) % 4;
    if (pad) this.chunks.push(new Uint8Array(pad));
  }
  option(code: number, value: Uint8Array) {
    this.u16(code);
    this.u16(value.length);
    this.bytes(value);
  }
  done(): Uint8Array {
    return concatAll(this.chunks);
  }
}

function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const o = new Out(le);
  const len = ((body.length + 3) & ~3) + 12;
  o.u32(type);
  o.u32(len);
  o.bytes(body);
  o.u32(len);
  return o.done();
}

export function pcapngFile(sections: PcapngSection[]): Uint8Array {
  const out: Uint8Array[] = [];
  const text = new TextEncoder();
  for (const s of sections) {
    const le = !s.bigEndian;
    const shb = new Out(le);
    shb.u32(0x1a2b3c4d);
    shb.u16(1);
    shb.u16(0);
    shb.i64(-1n);
    shb.option(4, text.encode('sluice tests')); // shb_userappl
    shb.u32(0); // opt_endofopt
    out.push(block(le, 0x0a0d0d0a, shb.done()));
    for (const b of s.blocks) {
      const o = new Out(le);
      switch (b.type) {
        case 'idb': {
          o.u16(b.linkType);
          o.u16(0);
          o.u32(b.snapLength ?? 262144);
          if (b.name) o.option(2, text.encode(b.name));
          if (b.tsresol !== undefined) o.option(9, Uint8Array.of(b.tsresol));
          if (b.tsoffset !== undefined) {
            const v = new Uint8Array(8);
            new DataView(v.buffer).setBigInt64(0, b.tsoffset, le);
            o.option(14, v);
          }
          o.u32(0);
          out.push(block(le, 1, o.done()));
          break;
        }
        case 'epb':
        case 'pb': {
          if (b.type === 'epb') o.u32(b.iface);
          else {
            o.u16(b.iface);
            o.u16(0);
          }
          o.u32(Number(b.ts >> 32n));
          o.u32(Number(b.ts & 0xffffffffn));
          o.u32(b.data.length);
          o.u32(b.origLength ?? b.data.length);
          o.bytes(b.data);
          if (b.type === 'epb' && b.comment) {
            o.option(1, text.encode(b.comment));
            o.u32(0);
          }
          out.push(block(le, b.type === 'epb' ? 6 : 2, o.done()));
          break;
        }
        case 'spb':
          o.u32(b.origLength ?? b.data.length);
          o.bytes(b.data);
          out.push(block(le, 3, o.done()));
          break;
        case 'other':
          out.push(block(le, b.blockType, b.body));
          break;
      }
    }
  }
  return concatAll(out);
}
