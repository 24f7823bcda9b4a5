import { decodeLink } from '../protocol/capture/link.js';
import { createPacketHeaders } from '../protocol/packet/headers.js';
import { parsePacket } from '../protocol/packet/parse.js';
import { type PacketFacts, type PacketView, wordAt } from './cache.js';

/** Why a captured frame was not accounted to a flow (counted, never fatal). */
export type SkipReason =
  | 'unsupported_link_type'
  | 'not_ip'
  | 'truncated'
  | 'malformed'
  | 'link_truncated';

/** How ifIndexes are chosen: fixed per capture, or the packet's outer VLAN id. */
export type IfIndexMode =
  | { readonly kind: 'fixed'; readonly inIf: number; readonly outIf: number }
  | {
      readonly kind: 'vlan';
    };

export interface FrameResult {
  facts: PacketFacts | undefined;
  skip: SkipReason | undefined;
  /** A non-first fragment: accounted with ports 0 (no transport header to read). */
  fragment: boolean;
}

const headers = createPacketHeaders();

/**
 * The flow facts of one captured frame: the link layer is skipped (Ethernet with 802.1Q /
 * QinQ tags, Linux cooked v1/v2, raw IP, loopback), then the IP and transport headers are
 * read. Bytes are the IP total length from the header, so a snap length that cut the
 * frame does not change the count.
 */
export function frameFacts(linkType: number, data: Uint8Array, ifMode: IfIndexMode): FrameResult {
  const link = decodeLink(linkType, data);
  if (!link.ok) {
    const skip: SkipReason = link.reason === 'truncated' ? 'link_truncated' : link.reason;
    return { facts: undefined, skip, fragment: false };
  }
  const h = parsePacket(link.payload, link.network, headers);
  if (h.invalidAt !== undefined) return { facts: undefined, skip: 'malformed', fragment: false };
  if (h.srcAddr === undefined || h.dstAddr === undefined || h.protocol === undefined)
    return { facts: undefined, skip: 'truncated', fragment: false };
  const v6 = h.ipVersion === 6;
  const bytes = v6 ? 40 + (h.ipv6PayloadLength ?? 0) : (h.ipTotalLength ?? 0);
  const icmp = h.protocol === 1 || h.protocol === 58;
  const fragment = (h.fragmentOffset ?? 0) > 0;
  let srcPort = 0;
  let dstPort = 0;
  if (icmp) dstPort = ((h.icmpType ?? 0) << 8) | (h.icmpCode ?? 0);
  else {
    srcPort = h.srcPort ?? 0;
    dstPort = h.dstPort ?? 0;
  }
  const vlans = link.vlanIds;
  const vlan = vlans[0] ?? 0;
  const innerVlan = vlans[1] ?? 0;
  const inIf = ifMode.kind === 'fixed' ? ifMode.inIf : vlan;
  const outIf = ifMode.kind === 'fixed' ? ifMode.outIf : 0;
  return {
    facts: {
      ipVersion: v6 ? 6 : 4,
      srcAddr: h.srcAddr,
      dstAddr: h.dstAddr,
      protocol: h.protocol,
      srcPort,
      dstPort,
      tos: h.tos ?? 0,
      tcpFlags: h.protocol === 6 ? (h.tcpFlags ?? 0) & 0xff : 0,
      bytes,
      vlan,
      innerVlan,
      inIf,
      outIf,
    },
    skip: undefined,
    fragment,
  };
}

const LINKTYPE_ETHERNET = 1;
const VXLAN_PORT = 4789;

/**
 * The fast path of `frameFacts` for the common frame, read in place from
 * `d[off, end)`: Ethernet (up to two VLAN tags), IPv4 (not a non-first fragment) or IPv6
 * without extension headers, carrying a complete TCP, UDP (not VXLAN) or ICMP header.
 * Fills `v` and returns true; returns false for anything else, which `frameFacts` then
 * handles (same results, slower).
 */
export function fastFrame(
  linkType: number,
  d: Uint8Array,
  off: number,
  end: number,
  ifMode: IfIndexMode,
  v: PacketView,
): boolean {
  if (linkType !== LINKTYPE_ETHERNET || end - off < 14) return false;
  let type = ((d[off + 12] as number) << 8) | (d[off + 13] as number);
  let at = off + 14;
  let vlan = 0;
  let innerVlan = 0;
  for (let tags = 0; type === 0x8100 || type === 0x88a8 || type === 0x9100 || type === 0x9200; ) {
    if (tags === 2 || end < at + 4) return false;
    const id = (((d[at] as number) << 8) | (d[at + 1] as number)) & 0xfff;
    if (tags === 0) vlan = id;
    else innerVlan = id;
    tags += 1;
    type = ((d[at + 2] as number) << 8) | (d[at + 3] as number);
    at += 4;
  }
  let proto: number;
  let l4: number;
  let stop: number;
  if (type === 0x0800) {
    if (end - at < 20) return false;
    const vihl = d[at] as number;
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >> 4 !== 4 || ihl < 20 || end - at < ihl) return false;
    if (((((d[at + 6] as number) << 8) | (d[at + 7] as number)) & 0x1fff) !== 0) return false;
    const total = ((d[at + 2] as number) << 8) | (d[at + 3] as number);
    v.ipVersion = 4;
    v.tos = d[at + 1] as number;
    v.bytes = total;
    proto = d[at + 9] as number;
    v.s0 = wordAt(d, at + 12);
    v.s1 = 0;
    v.s2 = 0;
    v.s3 = 0;
    v.d0 = wordAt(d, at + 16);
    v.d1 = 0;
    v.d2 = 0;
    v.d3 = 0;
    l4 = at + ihl;
    stop = total >= ihl && at + total < end ? at + total : end;
  } else if (type === 0x86dd) {
    if (end - at < 40) return false;
    const b0 = d[at] as number;
    if (b0 >> 4 !== 6) return false;
    const payload = ((d[at + 4] as number) << 8) | (d[at + 5] as number);
    v.ipVersion = 6;
    v.tos = ((b0 & 0x0f) << 4) | ((d[at + 1] as number) >> 4);
    v.bytes = 40 + payload;
    proto = d[at + 6] as number;
    v.s0 = wordAt(d, at + 8);
    v.s1 = wordAt(d, at + 12);
    v.s2 = wordAt(d, at + 16);
    v.s3 = wordAt(d, at + 20);
    v.d0 = wordAt(d, at + 24);
    v.d1 = wordAt(d, at + 28);
    v.d2 = wordAt(d, at + 32);
    v.d3 = wordAt(d, at + 36);
    l4 = at + 40;
    stop = payload > 0 && l4 + payload < end ? l4 + payload : end;
  } else return false;
  const avail = stop - l4;
  if (proto === 6 || proto === 17) {
    if (avail < (proto === 6 ? 20 : 8)) return false;
    v.srcPort = ((d[l4] as number) << 8) | (d[l4 + 1] as number);
    v.dstPort = ((d[l4 + 2] as number) << 8) | (d[l4 + 3] as number);
    if (proto === 17 && v.dstPort === VXLAN_PORT) return false;
    v.tcpFlags = proto === 6 ? (d[l4 + 13] as number) : 0;
  } else if ((proto === 1 && v.ipVersion === 4) || (proto === 58 && v.ipVersion === 6)) {
    if (avail < (proto === 1 ? 8 : 4)) return false;
    v.srcPort = 0;
    v.dstPort = ((d[l4] as number) << 8) | (d[l4 + 1] as number);
    v.tcpFlags = 0;
  } else return false;
  v.protocol = proto;
  v.vlan = vlan;
  v.innerVlan = innerVlan;
  if (ifMode.kind === 'fixed') {
    v.inIf = ifMode.inIf;
    v.outIf = ifMode.outIf;
  } else {
    v.inIf = vlan;
    v.outIf = 0;
  }
  return true;
}
