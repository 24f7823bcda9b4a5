import { decodeLink } from '../protocol/capture/link.js';
import { createPacketHeaders } from '../protocol/packet/headers.js';
import { parsePacket } from '../protocol/packet/parse.js';
import type { PacketFacts } from './cache.js';

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
