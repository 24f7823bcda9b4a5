import { ipv4ToString, ipv6ToString, macToString } from '../address.js';
import {
  createPacketHeaders,
  type Encapsulation,
  type FirstLayer,
  type PacketHeaders,
  type PacketLayer,
  resetPacketHeaders,
  takeInner,
} from './headers.js';

/*
 * Header layouts (facts, from the standards): Ethernet II and 802.1Q/802.1ad tags (IEEE
 * 802.3, 802.1Q); MPLS label stack entries (RFC 3032), explicit null labels 0 and 2, the
 * pseudowire control word and associated channel first nibbles 0 and 1 (RFC 4385);
 * IPv4 (RFC 791), IPv6 and its extension headers (RFC 8200; AH RFC 4302, length in
 * 4-byte units minus 2), segment routing header (RFC 8754, routing type 4); TCP (RFC 9293,
 * NS bit RFC 3540), UDP (RFC 768), ICMP (RFC 792), ICMPv6 (RFC 4443); GRE (RFC 2784,
 * key and sequence RFC 2890, enhanced GRE v1 RFC 2637 with PPP RFC 1661/1662);
 * VXLAN on UDP 4789 (RFC 7348).
 *
 * Every read is bounds-checked by hand against `end` (no exceptions on the hot path:
 * truncated headers are the common case in sFlow samples).
 */

/** How many tunnels deep `inner` goes (outer packet = depth 0). */
export const MAX_ENCAP_DEPTH = 2;
const MAX_VLAN_TAGS = 8;
const MAX_MPLS_LABELS = 16;
const MAX_IPV6_EXT_HEADERS = 8;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_TEB = 0x6558;
const ETH_PPP = 0x880b;
const VXLAN_PORT = 4789;

/**
 * Decodes the headers at the start of `bytes`. Never throws: a packet cut short decodes
 * as far as it goes and names the layer in `truncatedAt`. Pass `out` to reuse one result
 * object (and its arrays) across calls on a hot path; it is cleared first.
 */
export function parsePacket(
  bytes: Uint8Array,
  firstLayer: FirstLayer,
  out?: PacketHeaders,
): PacketHeaders {
  let h: PacketHeaders;
  if (out === undefined) h = createPacketHeaders();
  else {
    h = out;
    resetPacketHeaders(h);
  }
  dispatch(h, bytes, 0, bytes.length, firstLayer, 0);
  return h;
}

/**
 * Where the outer packet's addresses start in the bytes after `parsePacketAt`: `mac` the
 * destination MAC (the source follows it), `ip` the IP source address (the destination
 * follows it; 4 or 16 bytes by `ipVersion`); -1 where the packet has none.
 */
export const outerAt = { mac: -1, ip: -1 };

/** Whether the parse under way leaves the outer addresses as offsets (parsePacketAt). */
let atOnly = false;

/**
 * `parsePacket` of the bytes `from` to `to` of `bytes` into `out` (cleared first), for a
 * caller that reads the outer packet's MAC and IP addresses from the bytes itself: their
 * text is not made (srcMac, dstMac, srcAddr and dstAddr of the outer level stay
 * undefined) and `outerAt` tells where they are, as offsets into `bytes`. The text cost
 * more than the rest of a sampled header's decoding, and the document writes addresses
 * from their bytes. Everything else, inner packets' addresses included, is as
 * parsePacket of `bytes.subarray(from, to)` makes it.
 */
export function parsePacketAt(
  bytes: Uint8Array,
  from: number,
  to: number,
  firstLayer: FirstLayer,
  out: PacketHeaders,
): PacketHeaders {
  outerAt.mac = -1;
  outerAt.ip = -1;
  resetPacketHeaders(out);
  atOnly = true;
  try {
    dispatch(out, bytes, from, to, firstLayer, 0);
  } finally {
    atOnly = false;
  }
  return out;
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

/** A big-endian unsigned 32-bit read, no bounds check (the caller checked the length). */
export function u32(b: Uint8Array, o: number): number {
  return (
    (((b[o] as number) << 24) |
      ((b[o + 1] as number) << 16) |
      ((b[o + 2] as number) << 8) |
      (b[o + 3] as number)) >>>
    0
  );
}

function dispatch(
  h: PacketHeaders,
  b: Uint8Array,
  off: number,
  end: number,
  layer: FirstLayer,
  depth: number,
): void {
  switch (layer) {
    case 'ethernet':
      parseEthernet(h, b, off, end, depth);
      return;
    case 'ipv4':
      parseIpv4(h, b, off, end, depth);
      return;
    case 'ipv6':
      parseIpv6(h, b, off, end, depth);
      return;
    case 'mpls':
      parseMpls(h, b, off, end, depth);
      return;
  }
}

function encapsulate(
  h: PacketHeaders,
  kind: Encapsulation,
  layer: FirstLayer,
  b: Uint8Array,
  off: number,
  end: number,
  depth: number,
): void {
  h.encapsulation = kind;
  if (depth >= MAX_ENCAP_DEPTH) return;
  const inner = takeInner(h);
  h.inner = inner;
  dispatch(inner, b, off, end, layer, depth + 1);
}

function parseEthernet(
  h: PacketHeaders,
  b: Uint8Array,
  off: number,
  end: number,
  depth: number,
): void {
  if (end - off < 14) {
    if (end - off >= 12) {
      if (atOnly && depth === 0) outerAt.mac = off;
      else {
        h.dstMac = macToString(b, off);
        h.srcMac = macToString(b, off + 6);
      }
    }
    h.truncatedAt = 'ethernet';
    return;
  }
  if (atOnly && depth === 0) outerAt.mac = off;
  else {
    h.dstMac = macToString(b, off);
    h.srcMac = macToString(b, off + 6);
  }
  let type = u16(b, off + 12);
  off += 14;
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100 || type === 0x9200) {
    if (h.vlanIds.length === MAX_VLAN_TAGS) {
      h.invalidAt = 'vlan';
      return;
    }
    if (end - off < 4) {
      h.truncatedAt = 'vlan';
      return;
    }
    const tci = u16(b, off);
    h.vlanTpids.push(type);
    h.vlanIds.push(tci & 0x0fff);
    h.vlanPriorities.push(tci >> 13);
    type = u16(b, off + 2);
    off += 4;
  }
  h.etherType = type;
  etherPayload(h, b, off, end, type, depth);
}

function etherPayload(
  h: PacketHeaders,
  b: Uint8Array,
  off: number,
  end: number,
  type: number,
  depth: number,
): void {
  switch (type) {
    case ETH_IPV4:
      parseIpv4(h, b, off, end, depth);
      return;
    case ETH_IPV6:
      parseIpv6(h, b, off, end, depth);
      return;
    case ETH_MPLS:
    case ETH_MPLS_MC:
      parseMpls(h, b, off, end, depth);
      return;
  }
}

function parseMpls(h: PacketHeaders, b: Uint8Array, off: number, end: number, depth: number): void {
  let label = -1;
  for (;;) {
    if (h.mplsLabels.length === MAX_MPLS_LABELS) {
      h.invalidAt = 'mpls';
      return;
    }
    if (end - off < 4) {
      h.truncatedAt = 'mpls';
      return;
    }
    const entry = u32(b, off);
    off += 4;
    label = entry >>> 12;
    h.mplsLabels.push(label);
    h.mplsTcs.push((entry >>> 9) & 7);
    h.mplsTtls.push(entry & 0xff);
    if ((entry & 0x100) !== 0) break;
  }
  if (label === 0) {
    parseIpv4(h, b, off, end, depth);
    return;
  }
  if (label === 2) {
    parseIpv6(h, b, off, end, depth);
    return;
  }
  if (off >= end) return;
  const nibble = (b[off] as number) >> 4;
  if (nibble === 4) parseIpv4(h, b, off, end, depth);
  else if (nibble === 6) parseIpv6(h, b, off, end, depth);
  else if (nibble === 0) {
    // Pseudowire control word, then the Ethernet frame (Ethernet over MPLS).
    if (end - off < 4) {
      h.truncatedAt = 'pw';
      return;
    }
    h.pwControlWord = u32(b, off);
    encapsulate(h, 'eompls', 'ethernet', b, off + 4, end, depth);
  }
}

function parseIpv4(h: PacketHeaders, b: Uint8Array, off: number, end: number, depth: number): void {
  const avail = end - off;
  if (avail < 1) {
    h.truncatedAt = 'ipv4';
    return;
  }
  const vihl = b[off] as number;
  if (vihl >> 4 !== 4) {
    h.invalidAt = 'ipv4';
    return;
  }
  h.ipVersion = 4;
  if (avail < 20) {
    h.truncatedAt = 'ipv4';
    return;
  }
  const ihl = (vihl & 0x0f) * 4;
  h.ipHeaderLength = ihl;
  if (ihl < 20) {
    h.invalidAt = 'ipv4';
    return;
  }
  const tos = b[off + 1] as number;
  h.tos = tos;
  h.dscp = tos >> 2;
  h.ecn = tos & 3;
  const totalLength = u16(b, off + 2);
  h.ipTotalLength = totalLength;
  h.ipId = u16(b, off + 4);
  const flagsFrag = u16(b, off + 6);
  h.ipFlags = flagsFrag >> 13;
  h.moreFragments = (flagsFrag & 0x2000) !== 0;
  const fragmentOffset = flagsFrag & 0x1fff;
  h.fragmentOffset = fragmentOffset;
  h.ttl = b[off + 8] as number;
  const proto = b[off + 9] as number;
  h.protocol = proto;
  if (atOnly && depth === 0) outerAt.ip = off + 12;
  else {
    h.srcAddr = ipv4ToString(b, off + 12);
    h.dstAddr = ipv4ToString(b, off + 16);
  }
  if (avail < ihl) {
    h.truncatedAt = 'ipv4';
    return;
  }
  // Ethernet pads short frames: the IP total length marks the real end when it is sane.
  let payloadEnd = end;
  if (totalLength >= ihl && off + totalLength < end) payloadEnd = off + totalLength;
  if (fragmentOffset !== 0) return;
  transport(h, b, off + ihl, payloadEnd, proto, depth);
}

function parseIpv6(h: PacketHeaders, b: Uint8Array, off: number, end: number, depth: number): void {
  const avail = end - off;
  if (avail < 1) {
    h.truncatedAt = 'ipv6';
    return;
  }
  const b0 = b[off] as number;
  if (b0 >> 4 !== 6) {
    h.invalidAt = 'ipv6';
    return;
  }
  h.ipVersion = 6;
  if (avail < 40) {
    h.truncatedAt = 'ipv6';
    return;
  }
  const b1 = b[off + 1] as number;
  const tc = ((b0 & 0x0f) << 4) | (b1 >> 4);
  h.tos = tc;
  h.dscp = tc >> 2;
  h.ecn = tc & 3;
  h.ipv6FlowLabel = ((b1 & 0x0f) << 16) | u16(b, off + 2);
  const payloadLength = u16(b, off + 4);
  h.ipv6PayloadLength = payloadLength;
  let next = b[off + 6] as number;
  h.ttl = b[off + 7] as number;
  if (atOnly && depth === 0) outerAt.ip = off + 8;
  else {
    h.srcAddr = ipv6ToString(b, off + 8);
    h.dstAddr = ipv6ToString(b, off + 24);
  }
  let p = off + 40;
  let payloadEnd = end;
  if (payloadLength > 0 && p + payloadLength < end) payloadEnd = p + payloadLength;
  for (let count = 0; ; count++) {
    let len: number;
    switch (next) {
      case 0: // hop-by-hop options
      case 43: // routing
      case 60: // destination options
      case 135: // mobility
      case 139: // HIP
      case 140: // shim6
        if (count === MAX_IPV6_EXT_HEADERS) {
          h.invalidAt = 'ipv6-ext';
          return;
        }
        h.ipv6ExtHeaders.push(next);
        if (payloadEnd - p < 2) {
          h.truncatedAt = 'ipv6-ext';
          return;
        }
        len = ((b[p + 1] as number) + 1) * 8;
        if (next === 43 && payloadEnd - p >= 8 && b[p + 2] === 4) {
          segmentRouting(h, b, p, Math.min(p + len, payloadEnd));
        }
        break;
      case 44: // fragment
        if (count === MAX_IPV6_EXT_HEADERS) {
          h.invalidAt = 'ipv6-ext';
          return;
        }
        h.ipv6ExtHeaders.push(next);
        len = 8;
        if (payloadEnd - p >= 8) {
          const fo = u16(b, p + 2);
          h.fragmentOffset = fo >> 3;
          h.moreFragments = (fo & 1) !== 0;
          h.ipId = u32(b, p + 4);
          if (fo >> 3 !== 0) {
            // A later fragment: its payload does not start with the upper-layer header.
            h.protocol = b[p] as number;
            return;
          }
        }
        break;
      case 51: // authentication header
        if (count === MAX_IPV6_EXT_HEADERS) {
          h.invalidAt = 'ipv6-ext';
          return;
        }
        h.ipv6ExtHeaders.push(next);
        if (payloadEnd - p < 2) {
          h.truncatedAt = 'ipv6-ext';
          return;
        }
        len = ((b[p + 1] as number) + 2) * 4;
        break;
      default:
        h.protocol = next;
        transport(h, b, p, payloadEnd, next, depth);
        return;
    }
    if (payloadEnd - p < len) {
      h.truncatedAt = 'ipv6-ext';
      return;
    }
    next = b[p] as number;
    p += len;
  }
}

/** Segment routing header (routing type 4): segments left and the segment list. */
function segmentRouting(h: PacketHeaders, b: Uint8Array, p: number, end: number): void {
  h.srv6SegmentsLeft = b[p + 3] as number;
  const count = (b[p + 4] as number) + 1;
  let s = p + 8;
  for (let i = 0; i < count && s + 16 <= end; i++, s += 16) {
    h.srv6Segments.push(ipv6ToString(b, s));
  }
}

function transport(
  h: PacketHeaders,
  b: Uint8Array,
  off: number,
  end: number,
  proto: number,
  depth: number,
): void {
  switch (proto) {
    case 6:
      parseTcp(h, b, off, end);
      return;
    case 17:
      parseUdp(h, b, off, end, depth);
      return;
    case 1:
      parseIcmp(h, b, off, end, 'icmp', 8);
      return;
    case 58:
      parseIcmp(h, b, off, end, 'icmpv6', 4);
      return;
    case 47:
      parseGre(h, b, off, end, depth);
      return;
    case 4:
      encapsulate(h, 'ipip', 'ipv4', b, off, end, depth);
      return;
    case 41:
      encapsulate(h, 'ipip', 'ipv6', b, off, end, depth);
      return;
  }
}

function parseTcp(h: PacketHeaders, b: Uint8Array, off: number, end: number): void {
  const avail = end - off;
  if (avail >= 4) {
    h.srcPort = u16(b, off);
    h.dstPort = u16(b, off + 2);
  }
  if (avail >= 14) h.tcpFlags = (((b[off + 12] as number) & 1) << 8) | (b[off + 13] as number);
  if (avail < 20) h.truncatedAt = 'tcp';
}

function parseUdp(h: PacketHeaders, b: Uint8Array, off: number, end: number, depth: number): void {
  const avail = end - off;
  if (avail >= 4) {
    h.srcPort = u16(b, off);
    h.dstPort = u16(b, off + 2);
  }
  if (avail < 8) {
    if (avail >= 6) h.udpLength = u16(b, off + 4);
    h.truncatedAt = 'udp';
    return;
  }
  const length = u16(b, off + 4);
  h.udpLength = length;
  if (h.dstPort !== VXLAN_PORT) return;
  let payloadEnd = end;
  if (length >= 8 && off + length < end) payloadEnd = off + length;
  const p = off + 8;
  if (payloadEnd - p < 8) {
    h.truncatedAt = 'vxlan';
    return;
  }
  h.vxlanVni = u32(b, p + 4) >>> 8;
  encapsulate(h, 'vxlan', 'ethernet', b, p + 8, payloadEnd, depth);
}

function parseIcmp(
  h: PacketHeaders,
  b: Uint8Array,
  off: number,
  end: number,
  layer: PacketLayer,
  headerLength: number,
): void {
  const avail = end - off;
  if (avail >= 1) h.icmpType = b[off] as number;
  if (avail >= 2) h.icmpCode = b[off + 1] as number;
  if (avail < headerLength) h.truncatedAt = layer;
}

function parseGre(h: PacketHeaders, b: Uint8Array, off: number, end: number, depth: number): void {
  if (end - off < 4) {
    h.truncatedAt = 'gre';
    return;
  }
  const flags = u16(b, off);
  const proto = u16(b, off + 2);
  h.greFlags = flags;
  h.greProtocol = proto;
  const version = flags & 7;
  let p = off + 4;
  // Checksum and offset words are present when the checksum or routing bit is set.
  if ((flags & 0xc000) !== 0) p += 4;
  if ((flags & 0x2000) !== 0) {
    if (end - p < 4) {
      h.truncatedAt = 'gre';
      return;
    }
    h.greKey = u32(b, p);
    p += 4;
  }
  if ((flags & 0x1000) !== 0) {
    if (end - p < 4) {
      h.truncatedAt = 'gre';
      return;
    }
    h.greSequence = u32(b, p);
    p += 4;
  }
  if (version === 1 && (flags & 0x0080) !== 0) p += 4; // enhanced GRE acknowledgment number
  if (p > end) {
    h.truncatedAt = 'gre';
    return;
  }
  // RFC 1701 source routing entries and unknown versions are not decoded.
  if (version > 1 || (flags & 0x4000) !== 0) return;
  switch (proto) {
    case ETH_IPV4:
      encapsulate(h, 'gre', 'ipv4', b, p, end, depth);
      return;
    case ETH_IPV6:
      encapsulate(h, 'gre', 'ipv6', b, p, end, depth);
      return;
    case ETH_TEB:
      encapsulate(h, 'gre', 'ethernet', b, p, end, depth);
      return;
    case ETH_MPLS:
    case ETH_MPLS_MC:
      encapsulate(h, 'gre', 'mpls', b, p, end, depth);
      return;
    case ETH_PPP:
      greppp(h, b, p, end, depth);
      return;
  }
}

/** PPP in (enhanced) GRE: optional address/control 0xff 0x03, then a 1- or 2-byte protocol. */
function greppp(h: PacketHeaders, b: Uint8Array, p: number, end: number, depth: number): void {
  if (end - p >= 2 && b[p] === 0xff && b[p + 1] === 0x03) p += 2;
  if (end - p < 1) {
    h.truncatedAt = 'ppp';
    return;
  }
  let pppProto: number;
  if (((b[p] as number) & 1) === 1) {
    pppProto = b[p] as number;
    p += 1;
  } else {
    if (end - p < 2) {
      h.truncatedAt = 'ppp';
      return;
    }
    pppProto = u16(b, p);
    p += 2;
  }
  if (pppProto === 0x0021) encapsulate(h, 'gre', 'ipv4', b, p, end, depth);
  else if (pppProto === 0x0057) encapsulate(h, 'gre', 'ipv6', b, p, end, depth);
}
