// UDP datagrams out of captured frames: link layer → IPv4/IPv6 (IPv6 extension headers
// skipped) → UDP, with IP fragment reassembly. Nothing throws: every frame pushed ends up
// counted once, as a datagram, a fragment held for reassembly, or a skip reason.
//
// Reassembly follows RFC 791 (IPv4: key source, destination, protocol, identification;
// offsets in 8-octet units; MF flag) and RFC 8200 section 4.5 (IPv6: key source,
// destination, identification — the Next Header of the offset-0 fragment is the one used,
// so it is not part of the key; the unfragmentable headers before the Fragment header are
// not part of the reassembled payload here since only UDP is wanted). Overlapping
// fragments abandon the whole datagram, as RFC 5722 requires for IPv6; the same is done
// for IPv4, where overlaps are only ever an attack or a bug. Exact duplicates are ignored
// (RFC 5722 allows it). A non-final fragment whose length is not a multiple of 8, or one
// that would make the datagram larger than 65,535 octets, is dropped (RFC 8200 4.5).
// Atomic fragments (offset 0, M clear) are processed as whole packets (RFC 6946).
//
// State is bounded: at most `maxPendingDatagrams` datagrams and `maxPendingBytes` bytes of
// fragments are held (the oldest is evicted first), and a datagram not completed within
// `reassemblyTimeoutMs` of capture time after its first fragment is abandoned. Evicted and
// abandoned datagrams are counted by reason in stats().abandoned.
//
// The UDP checksum is not verified: captures taken on the sending host (lo, offloading
// NICs) hold packets whose checksum the hardware has not filled in yet.
import { ipv4ToString, ipv6ToString } from '../address.js';
import { decodeLink } from './link.js';
import type { CaptureFrame } from './types.js';

export interface UdpDatagram {
  /** Index of the frame that carried the datagram (the last fragment when reassembled). */
  frameIndex: number;
  timeMs: number;
  timestampNs: bigint;
  ipVersion: 4 | 6;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** The UDP payload: a view into the frame when not fragmented, a new buffer otherwise. */
  payload: Uint8Array;
  /** IP fragments the datagram was made of (1 when it was not fragmented). */
  fragments: number;
  /** VLAN ids on the carrying frame, outermost first. */
  vlanIds: readonly number[];
}

/** What the extractor needs of a frame (a CaptureFrame fits). */
export type UdpFrame = Pick<CaptureFrame, 'index' | 'timeMs' | 'timestampNs' | 'linkType' | 'data'>;

export type UdpSkipReason =
  /** The frame's link type is not one decodeLink knows (see stats().unsupportedLinkTypes). */
  | 'unsupported_link_type'
  /** Not an IPv4/IPv6 packet (ARP, MPLS, LLDP, other address families...). */
  | 'not_ip'
  /** An IP packet of another protocol (TCP, ICMP, tunnels, ESP...). */
  | 'not_udp'
  /** Cut short: by the capture's snap length, or shorter than its own headers. */
  | 'truncated'
  /** IP header inconsistent: version, header length, total length. */
  | 'bad_ip_header'
  /** UDP length below 8 or beyond the IP payload. */
  | 'bad_udp_header'
  /** A fragment that can never be part of a valid datagram (misaligned, beyond 64 KiB). */
  | 'bad_fragment';

export type AbandonReason =
  /** Not completed within reassemblyTimeoutMs of capture time. */
  | 'timeout'
  /** Evicted to stay within maxPendingDatagrams. */
  | 'max_pending'
  /** Evicted to stay within maxPendingBytes. */
  | 'max_bytes'
  /** Two fragments overlapped with different contents or ranges. */
  | 'overlap'
  /** Fragments disagree about the datagram's end. */
  | 'inconsistent'
  /** Reassembled, but what it carries is not UDP. */
  | 'not_udp'
  /** Reassembled, but its UDP header is invalid. */
  | 'bad_udp_header';

export interface UdpExtractorStats {
  /** Frames pushed. */
  frames: number;
  /** Datagrams returned (unfragmented ones plus reassembled ones). */
  datagrams: number;
  /** Datagrams returned that were reassembled from fragments. */
  reassembled: number;
  /** Frames that were IP fragments taken into reassembly. */
  fragments: number;
  /** Fragments ignored as exact duplicates of one already held. */
  duplicateFragments: number;
  /** Datagrams awaiting fragments now. */
  pendingDatagrams: number;
  /** Bytes of fragments held now. */
  pendingBytes: number;
  /** Frames that yielded nothing, by reason. */
  skipped: Record<UdpSkipReason, number>;
  /** Datagrams given up during reassembly, by reason. */
  abandoned: Record<AbandonReason, number>;
  /** Frames of unsupported link types, by LINKTYPE_ value. */
  unsupportedLinkTypes: Record<number, number>;
}

export interface UdpExtractorOptions {
  /** Most datagrams held in reassembly at once (default 1024). */
  maxPendingDatagrams?: number;
  /** Most fragment bytes held at once (default 4 MiB; at least 65,535 is used). */
  maxPendingBytes?: number;
  /** Capture-time limit from a datagram's first fragment to its completion (default 30 s). */
  reassemblyTimeoutMs?: number;
}

export const UDP_EXTRACTOR_DEFAULTS = {
  maxPendingDatagrams: 1024,
  maxPendingBytes: 4 * 1024 * 1024,
  reassemblyTimeoutMs: 30_000,
} as const;

const PROTO_UDP = 17;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
/** IPv6 extension headers with the generic next-header/length layout (RFC 7045, IANA). */
const IPV6_EXTENSIONS = new Set([0, 43, 60, 51, 135, 139, 140, 253, 254]);

interface Part {
  off: number;
  data: Uint8Array;
}

interface Pending {
  version: 4 | 6;
  src: string;
  dst: string;
  /** Capture time (ms) when the first fragment arrived. */
  start: number;
  parts: Part[];
  bytes: number;
  /** Octets of the whole payload, once the last fragment is seen; -1 before. */
  end: number;
  /** Highest fragment end seen. */
  maxEnd: number;
  /** IPv6: Next Header of the offset-0 fragment; -1 until seen. */
  firstNext: number;
  fragments: number;
  /** Abandoned (overlap, inconsistency): later fragments are absorbed until it expires. */
  dead: boolean;
}

function zeroSkips(): Record<UdpSkipReason, number> {
  return {
    unsupported_link_type: 0,
    not_ip: 0,
    not_udp: 0,
    truncated: 0,
    bad_ip_header: 0,
    bad_udp_header: 0,
    bad_fragment: 0,
  };
}

function zeroAbandons(): Record<AbandonReason, number> {
  return {
    timeout: 0,
    max_pending: 0,
    max_bytes: 0,
    overlap: 0,
    inconsistent: 0,
    not_udp: 0,
    bad_udp_header: 0,
  };
}

function u16(b: Uint8Array, off: number): number {
  return ((b[off] as number) << 8) | (b[off + 1] as number);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

type Walk =
  | { kind: 'udp'; at: number }
  | { kind: 'fragment'; at: number }
  | { kind: 'fail'; reason: 'not_udp' | 'truncated' };

/** Follows IPv6 extension headers in `b` from `at` with next header `next`. */
function walkIpv6(b: Uint8Array, next: number, at: number): Walk {
  let nh = next;
  let pos = at;
  for (;;) {
    if (nh === PROTO_UDP) return { kind: 'udp', at: pos };
    if (nh === IPV6_FRAGMENT) return { kind: 'fragment', at: pos };
    if (!IPV6_EXTENSIONS.has(nh)) return { kind: 'fail', reason: 'not_udp' };
    if (pos + 2 > b.length) return { kind: 'fail', reason: 'truncated' };
    const len =
      nh === IPV6_AH ? ((b[pos + 1] as number) + 2) * 4 : ((b[pos + 1] as number) + 1) * 8;
    if (pos + len > b.length) return { kind: 'fail', reason: 'truncated' };
    nh = b[pos] as number;
    pos += len;
  }
}

export class UdpExtractor {
  private readonly maxPending: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly pending = new Map<string, Pending>();
  private pendingBytes = 0;
  private now = Number.NEGATIVE_INFINITY;
  private frames = 0;
  private datagrams = 0;
  private reassembled = 0;
  private fragments = 0;
  private duplicates = 0;
  private readonly skipped = zeroSkips();
  private readonly abandoned = zeroAbandons();
  private readonly unsupported = new Map<number, number>();

  constructor(opts: UdpExtractorOptions = {}) {
    this.maxPending = Math.max(
      1,
      opts.maxPendingDatagrams ?? UDP_EXTRACTOR_DEFAULTS.maxPendingDatagrams,
    );
    this.maxBytes = Math.max(
      65_535,
      opts.maxPendingBytes ?? UDP_EXTRACTOR_DEFAULTS.maxPendingBytes,
    );
    this.timeoutMs = opts.reassemblyTimeoutMs ?? UDP_EXTRACTOR_DEFAULTS.reassemblyTimeoutMs;
  }

  /** The UDP datagram a frame carries or completes, if any. Never throws. */
  push(frame: UdpFrame): UdpDatagram | undefined {
    this.frames++;
    // Capture time only moves forward here, so a frame stamped earlier than its
    // predecessors (merged captures) cannot revive or prematurely expire anything.
    if (frame.timeMs > this.now) this.now = frame.timeMs;
    this.expire();
    const link = decodeLink(frame.linkType, frame.data);
    if (!link.ok) {
      if (link.reason === 'unsupported_link_type') {
        this.unsupported.set(frame.linkType, (this.unsupported.get(frame.linkType) ?? 0) + 1);
      }
      return this.skip(link.reason);
    }
    return link.network === 'ipv4'
      ? this.ipv4(frame, link.payload, link.vlanIds)
      : this.ipv6(frame, link.payload, link.vlanIds);
  }

  stats(): UdpExtractorStats {
    const unsupportedLinkTypes: Record<number, number> = {};
    for (const [k, v] of this.unsupported) unsupportedLinkTypes[k] = v;
    return {
      frames: this.frames,
      datagrams: this.datagrams,
      reassembled: this.reassembled,
      fragments: this.fragments,
      duplicateFragments: this.duplicates,
      pendingDatagrams: this.pending.size,
      pendingBytes: this.pendingBytes,
      skipped: { ...this.skipped },
      abandoned: { ...this.abandoned },
      unsupportedLinkTypes,
    };
  }

  /** Gives up every datagram still awaiting fragments (counted as timeouts), e.g. at EOF. */
  flush(): void {
    for (const e of this.pending.values()) if (!e.dead) this.abandoned.timeout++;
    this.pending.clear();
    this.pendingBytes = 0;
  }

  private skip(reason: UdpSkipReason): undefined {
    this.skipped[reason]++;
    return undefined;
  }

  private ipv4(
    frame: UdpFrame,
    p: Uint8Array,
    vlanIds: readonly number[],
  ): UdpDatagram | undefined {
    if (p.length < 20) return this.skip('truncated');
    const vihl = p[0] as number;
    if (vihl >> 4 !== 4) return this.skip('bad_ip_header');
    const ihl = (vihl & 0x0f) * 4;
    if (ihl < 20) return this.skip('bad_ip_header');
    if (p.length < ihl) return this.skip('truncated');
    let total = u16(p, 2);
    // A total length of 0 is what a segmentation-offloaded packet looks like when captured
    // on its sender; like Wireshark, take the captured bytes as the packet then.
    if (total === 0) total = p.length;
    if (total < ihl) return this.skip('bad_ip_header');
    if (total > p.length) return this.skip('truncated');
    if (p[9] !== PROTO_UDP) return this.skip('not_udp');
    const flags = u16(p, 6);
    const more = (flags & 0x2000) !== 0;
    const off = (flags & 0x1fff) * 8;
    const body = p.subarray(ihl, total);
    const src = ipv4ToString(p, 12);
    const dst = ipv4ToString(p, 16);
    if (!more && off === 0) {
      const r = this.udp(frame, 4, src, dst, body, 1, vlanIds);
      return typeof r === 'string' ? this.skip(r) : r;
    }
    if (
      (more && (body.length === 0 || body.length % 8 !== 0)) ||
      ihl + off + body.length > 65_535
    ) {
      return this.skip('bad_fragment');
    }
    const key = `4/${src}/${dst}/${PROTO_UDP}/${u16(p, 4)}`;
    return this.fragment(frame, key, 4, src, dst, off, body, !more, -1, vlanIds);
  }

  private ipv6(
    frame: UdpFrame,
    p: Uint8Array,
    vlanIds: readonly number[],
  ): UdpDatagram | undefined {
    if (p.length < 40) return this.skip('truncated');
    if ((p[0] as number) >> 4 !== 6) return this.skip('bad_ip_header');
    const plen = u16(p, 4);
    // Payload length 0: a jumbogram (RFC 2675) or an offloaded packet; use what was captured.
    const end = plen === 0 ? p.length : 40 + plen;
    if (end > p.length) return this.skip('truncated');
    const pkt = p.subarray(0, end);
    const src = ipv6ToString(p, 8);
    const dst = ipv6ToString(p, 24);
    let next = p[6] as number;
    let at = 40;
    for (;;) {
      const w = walkIpv6(pkt, next, at);
      if (w.kind === 'fail') return this.skip(w.reason);
      if (w.kind === 'udp') {
        const r = this.udp(frame, 6, src, dst, pkt.subarray(w.at), 1, vlanIds);
        return typeof r === 'string' ? this.skip(r) : r;
      }
      const f = w.at;
      if (f + 8 > end) return this.skip('truncated');
      const fnext = pkt[f] as number;
      const fo = u16(pkt, f + 2);
      const off = fo & 0xfff8;
      const more = (fo & 1) !== 0;
      const data = pkt.subarray(f + 8);
      if (off === 0 && !more) {
        // Atomic fragment: a whole packet with a Fragment header (RFC 6946).
        next = fnext;
        at = f + 8;
        continue;
      }
      if (
        (more && (data.length === 0 || data.length % 8 !== 0)) ||
        f - 40 + off + data.length > 65_535
      ) {
        return this.skip('bad_fragment');
      }
      // A fragment announcing a non-UDP upper layer is not worth holding.
      if (fnext !== PROTO_UDP && !IPV6_EXTENSIONS.has(fnext)) return this.skip('not_udp');
      const view = new DataView(pkt.buffer, pkt.byteOffset + f + 4, 4);
      const key = `6/${src}/${dst}/${view.getUint32(0)}`;
      return this.fragment(
        frame,
        key,
        6,
        src,
        dst,
        off,
        data,
        !more,
        off === 0 ? fnext : -1,
        vlanIds,
      );
    }
  }

  /** The datagram in a UDP header + payload, or why there is none. */
  private udp(
    frame: UdpFrame,
    version: 4 | 6,
    src: string,
    dst: string,
    b: Uint8Array,
    fragments: number,
    vlanIds: readonly number[],
  ): UdpDatagram | 'bad_udp_header' {
    if (b.length < 8) return 'bad_udp_header';
    let len = u16(b, 4);
    if (len === 0 && version === 6) len = b.length; // RFC 2675 jumbogram
    if (len < 8 || len > b.length) return 'bad_udp_header';
    this.datagrams++;
    return {
      frameIndex: frame.index,
      timeMs: frame.timeMs,
      timestampNs: frame.timestampNs,
      ipVersion: version,
      src,
      srcPort: u16(b, 0),
      dst,
      dstPort: u16(b, 2),
      payload: b.subarray(8, len),
      fragments,
      vlanIds,
    };
  }

  private fragment(
    frame: UdpFrame,
    key: string,
    version: 4 | 6,
    src: string,
    dst: string,
    off: number,
    data: Uint8Array,
    last: boolean,
    firstNext: number,
    vlanIds: readonly number[],
  ): UdpDatagram | undefined {
    this.fragments++;
    let e = this.pending.get(key);
    if (!e) {
      while (this.pending.size >= this.maxPending) this.evictOldest('max_pending');
      e = {
        version,
        src,
        dst,
        start: this.now,
        parts: [],
        bytes: 0,
        end: -1,
        maxEnd: 0,
        firstNext: -1,
        fragments: 0,
        dead: false,
      };
      this.pending.set(key, e);
    }
    if (e.dead) return undefined;
    e.fragments++;
    const fragEnd = off + data.length;
    if (last) {
      if ((e.end >= 0 && e.end !== fragEnd) || e.maxEnd > fragEnd)
        return this.kill(e, 'inconsistent');
      e.end = fragEnd;
    } else if (e.end >= 0 && fragEnd > e.end) {
      return this.kill(e, 'inconsistent');
    }
    if (data.length > 0) {
      const parts = e.parts;
      // First part starting at or after `off` (parts are sorted and never overlap).
      let lo = 0;
      let hi = parts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((parts[mid] as Part).off < off) lo = mid + 1;
        else hi = mid;
      }
      const prev = parts[lo - 1];
      const next = parts[lo];
      if (next && next.off === off && next.data.length === data.length) {
        if (!sameBytes(next.data, data)) return this.kill(e, 'overlap');
        this.duplicates++;
        e.fragments--;
        return undefined;
      }
      if ((prev && prev.off + prev.data.length > off) || (next && fragEnd > next.off)) {
        return this.kill(e, 'overlap');
      }
      // A copy: the frame may be a view into a chunk its owner reuses (and Buffer#slice
      // would not copy).
      parts.splice(lo, 0, { off, data: new Uint8Array(data) });
      e.bytes += data.length;
      this.pendingBytes += data.length;
      if (fragEnd > e.maxEnd) e.maxEnd = fragEnd;
    }
    if (firstNext >= 0) e.firstNext = firstNext;
    while (this.pendingBytes > this.maxBytes) {
      const oldest = this.evictOldest('max_bytes');
      if (oldest === e) return undefined;
    }
    if (e.end < 0 || e.bytes !== e.end) return undefined;
    return this.complete(key, e, frame, vlanIds);
  }

  private complete(
    key: string,
    e: Pending,
    frame: UdpFrame,
    vlanIds: readonly number[],
  ): UdpDatagram | undefined {
    this.pending.delete(key);
    this.pendingBytes -= e.bytes;
    const whole = new Uint8Array(e.end);
    for (const part of e.parts) whole.set(part.data, part.off);
    let at = 0;
    if (e.version === 6) {
      const w = walkIpv6(whole, e.firstNext, 0);
      if (w.kind !== 'udp') {
        // A second Fragment header inside a reassembled payload is not valid either.
        this.abandoned[w.kind === 'fail' && w.reason === 'not_udp' ? 'not_udp' : 'inconsistent']++;
        return undefined;
      }
      at = w.at;
    }
    const r = this.udp(frame, e.version, e.src, e.dst, whole.subarray(at), e.fragments, vlanIds);
    if (typeof r === 'string') {
      this.abandoned.bad_udp_header++;
      return undefined;
    }
    this.reassembled++;
    return r;
  }

  /** Abandons a datagram but keeps its key until it expires, absorbing late fragments. */
  private kill(e: Pending, reason: AbandonReason): undefined {
    this.abandoned[reason]++;
    this.pendingBytes -= e.bytes;
    e.parts = [];
    e.bytes = 0;
    e.dead = true;
    return undefined;
  }

  private evictOldest(reason: AbandonReason): Pending | undefined {
    const first = this.pending.entries().next();
    if (first.done) return undefined;
    const [key, e] = first.value;
    this.pending.delete(key);
    this.pendingBytes -= e.bytes;
    if (!e.dead) this.abandoned[reason]++;
    return e;
  }

  private expire(): void {
    for (const [key, e] of this.pending) {
      if (this.now - e.start <= this.timeoutMs) break;
      this.pending.delete(key);
      this.pendingBytes -= e.bytes;
      if (!e.dead) this.abandoned.timeout++;
    }
  }
}
