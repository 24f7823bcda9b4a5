// From a captured frame to its network layer, for the link types a flow collector meets
// in captures of export traffic. Header layouts from the tcpdump.org link-layer header
// types registry (https://www.tcpdump.org/linktypes.html and the LINKTYPE_* pages):
//   ETHERNET (1)     dst(6) src(6) EtherType(2); 802.1Q (0x8100), 802.1ad (0x88A8) and the
//                    pre-standard QinQ TPIDs 0x9100/0x9200 add 4-byte tags before the type.
//   LINUX_SLL (113)  packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
//   LINUX_SLL2 (276) protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1)
//                    address length(1) address(8)
//   RAW (101), IPV4 (228), IPV6 (229): the IP header directly. Files written by old
//                    BSD libpcaps may carry DLT_RAW's own value, 12 or 14, instead of 101;
//                    tshark reads those as raw IP too, and so do we.
//   NULL (0)         4-byte address family in the capturing host's byte order;
//   LOOP (108)       the same in network byte order. AF_INET is 2 everywhere; AF_INET6 is
//                    24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS) — the registry's values
//                    — and 10 (Linux) or 23 (Windows) from those systems' socket headers.
import { LINKTYPE } from './types.js';

export type NetworkProtocol = 'ipv4' | 'ipv6';

export type LinkFailure =
  /** A link type this module does not decode. */
  | 'unsupported_link_type'
  /** The frame carries something other than IPv4/IPv6 (ARP, MPLS, LLDP, 802.3 LLC...). */
  | 'not_ip'
  /** The frame is shorter than its link-layer header. */
  | 'truncated';

export type LinkResult =
  | {
      ok: true;
      network: NetworkProtocol;
      /** The network-layer packet: a view into the frame's bytes. */
      payload: Uint8Array;
      /** VLAN ids of the 802.1Q/802.1ad tags skipped, outermost first (often empty). */
      vlanIds: readonly number[];
    }
  | {
      ok: false;
      reason: LinkFailure;
      message: string;
      /** The EtherType (or address family for NULL/LOOP) found, when one was. */
      protocol?: number;
    };

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100, 0x9200]);
/** More stacked tags than this is taken as garbage rather than a real frame. */
const MAX_VLAN_TAGS = 8;
const AF_INET = 2;
const AF_INET6 = new Set([10, 23, 24, 28, 30]);
const ARPHRD_NETLINK = 824;
const DLT_RAW_BSD = 12;
const DLT_RAW_OPENBSD = 14;
const NO_VLANS: readonly number[] = Object.freeze([]);

const NAMES: Record<number, string> = {
  0: 'NULL (BSD loopback)',
  1: 'ETHERNET',
  9: 'PPP',
  12: 'RAW (DLT_RAW of BSD)',
  14: 'RAW (DLT_RAW of OpenBSD)',
  50: 'PPP_HDLC',
  101: 'RAW',
  105: 'IEEE802_11',
  108: 'LOOP (OpenBSD loopback)',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIOTAP',
  147: 'USER0',
  192: 'PPI',
  197: 'ERF',
  220: 'USB_LINUX_MMAPPED',
  228: 'IPV4',
  229: 'IPV6',
  253: 'NETLINK',
  276: 'LINUX_SLL2',
};

/** The link types `decodeLink` understands. */
export const SUPPORTED_LINK_TYPES: readonly number[] = Object.freeze([
  LINKTYPE.NULL,
  LINKTYPE.ETHERNET,
  LINKTYPE.RAW,
  DLT_RAW_BSD,
  DLT_RAW_OPENBSD,
  LINKTYPE.LOOP,
  LINKTYPE.LINUX_SLL,
  LINKTYPE.IPV4,
  LINKTYPE.IPV6,
  LINKTYPE.LINUX_SLL2,
]);

/** "LINKTYPE_ETHERNET (1)", or "link type 147" for a value without a name here. */
export function linkTypeName(linkType: number): string {
  const n = NAMES[linkType];
  return n ? `LINKTYPE_${n} (${linkType})` : `link type ${linkType}`;
}

function short(what: string, need: number, have: number): LinkResult {
  return {
    ok: false,
    reason: 'truncated',
    message: `${what} needs ${need} bytes, the frame has ${have}`,
  };
}

/**
 * Follows an EtherType at `typeAt` whose payload starts at `payloadAt`, through any VLAN
 * tags (each: TCI(2) then the next EtherType(2)), to the IP packet.
 */
function fromEtherType(
  data: Uint8Array,
  typeAt: number,
  payloadAt: number,
  what: string,
): LinkResult {
  let vlanIds: number[] | undefined;
  if (data.length < typeAt + 2 || data.length < payloadAt) {
    return short(what, Math.max(typeAt + 2, payloadAt), data.length);
  }
  let type = ((data[typeAt] as number) << 8) | (data[typeAt + 1] as number);
  let off = payloadAt;
  while (VLAN_TPIDS.has(type)) {
    vlanIds ??= [];
    if (vlanIds.length >= MAX_VLAN_TAGS) {
      return {
        ok: false,
        reason: 'not_ip',
        message: `${what} has more than ${MAX_VLAN_TAGS} stacked VLAN tags`,
        protocol: type,
      };
    }
    if (data.length < off + 4) return short(`${what} VLAN tag`, off + 4, data.length);
    vlanIds.push((((data[off] as number) << 8) | (data[off + 1] as number)) & 0xfff);
    type = ((data[off + 2] as number) << 8) | (data[off + 3] as number);
    off += 4;
  }
  if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) {
    return {
      ok: true,
      network: type === ETHERTYPE_IPV4 ? 'ipv4' : 'ipv6',
      payload: data.subarray(off),
      vlanIds: vlanIds ?? NO_VLANS,
    };
  }
  const hex = type.toString(16).padStart(4, '0');
  return {
    ok: false,
    reason: 'not_ip',
    message:
      type < 0x0600
        ? `${what} carries an 802.3 length (0x${hex}), not an EtherType`
        : `${what} carries EtherType 0x${hex}, not IPv4/IPv6`,
    protocol: type,
  };
}

function fromVersion(data: Uint8Array, what: string, only?: 4 | 6): LinkResult {
  if (data.length < 1) return short(what, 1, 0);
  const version = (data[0] as number) >> 4;
  if ((version === 4 || version === 6) && (only === undefined || only === version)) {
    return {
      ok: true,
      network: version === 4 ? 'ipv4' : 'ipv6',
      payload: data,
      vlanIds: NO_VLANS,
    };
  }
  return {
    ok: false,
    reason: 'not_ip',
    message: `${what}: IP version ${version}${only ? `, expected ${only}` : ''}`,
    protocol: version,
  };
}

function fromFamily(data: Uint8Array, family: number, what: string): LinkResult {
  const payload = data.subarray(4);
  if (family === AF_INET) return { ok: true, network: 'ipv4', payload, vlanIds: NO_VLANS };
  if (AF_INET6.has(family)) return { ok: true, network: 'ipv6', payload, vlanIds: NO_VLANS };
  return {
    ok: false,
    reason: 'not_ip',
    message: `${what} carries address family ${family}, not IPv4/IPv6`,
    protocol: family,
  };
}

/** Skips the link-layer header of a frame. Never throws; failures are values. */
export function decodeLink(linkType: number, data: Uint8Array): LinkResult {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return fromEtherType(data, 12, 14, 'Ethernet frame');
    case LINKTYPE.LINUX_SLL: {
      if (data.length < 16) return short('Linux cooked (SLL) header', 16, data.length);
      const arphrd = ((data[2] as number) << 8) | (data[3] as number);
      if (arphrd === ARPHRD_NETLINK) {
        return { ok: false, reason: 'not_ip', message: 'Linux cooked (SLL) netlink message' };
      }
      return fromEtherType(data, 14, 16, 'Linux cooked (SLL) frame');
    }
    case LINKTYPE.LINUX_SLL2: {
      if (data.length < 20) return short('Linux cooked (SLL2) header', 20, data.length);
      const arphrd = ((data[8] as number) << 8) | (data[9] as number);
      if (arphrd === ARPHRD_NETLINK) {
        return { ok: false, reason: 'not_ip', message: 'Linux cooked (SLL2) netlink message' };
      }
      return fromEtherType(data, 0, 20, 'Linux cooked (SLL2) frame');
    }
    case LINKTYPE.RAW:
    case DLT_RAW_BSD:
    case DLT_RAW_OPENBSD:
      return fromVersion(data, 'raw IP packet');
    case LINKTYPE.IPV4:
      return fromVersion(data, 'raw IPv4 packet', 4);
    case LINKTYPE.IPV6:
      return fromVersion(data, 'raw IPv6 packet', 6);
    case LINKTYPE.NULL: {
      if (data.length < 4) return short('BSD loopback header', 4, data.length);
      const v = new DataView(data.buffer, data.byteOffset, 4);
      // Host byte order of an unknown host: a family is small, so the order in which the
      // upper half is zero is the right one.
      const le = v.getUint32(0, true);
      const family = (le & 0xffff0000) === 0 ? le : v.getUint32(0, false);
      return fromFamily(data, family, 'BSD loopback frame');
    }
    case LINKTYPE.LOOP: {
      if (data.length < 4) return short('OpenBSD loopback header', 4, data.length);
      const v = new DataView(data.buffer, data.byteOffset, 4);
      return fromFamily(data, v.getUint32(0, false), 'OpenBSD loopback frame');
    }
    default:
      return {
        ok: false,
        reason: 'unsupported_link_type',
        message: `${linkTypeName(linkType)} is not supported (supported: ${SUPPORTED_LINK_TYPES.map(linkTypeName).join(', ')})`,
        protocol: linkType,
      };
  }
}
