/**
 * The output of `parsePacket`: the headers found at the start of a packet, outer first.
 *
 * Shape, by layer (every field is always present; `undefined` means "not in this packet"
 * or "not reached"; arrays are empty when the layer is absent):
 *
 * - Ethernet II: `srcMac`, `dstMac` (lower-case `aa:bb:cc:dd:ee:ff`), `etherType` (the
 *   EtherType after all VLAN tags; a value < 0x600 is an 802.3 length and stops decoding).
 * - VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8, old QinQ 0x9100/0x9200), outer first:
 *   `vlanIds`, `vlanPriorities` (PCP), `vlanTpids`, index-aligned.
 * - MPLS label stack, outermost first: `mplsLabels`, `mplsTcs` (traffic class, ex-EXP),
 *   `mplsTtls`, index-aligned; the last entry is the bottom of stack (S=1) unless
 *   `truncatedAt === 'mpls'`. What follows the stack: label 0 (IPv4 explicit null) or a
 *   first nibble 4 is IPv4; label 2 (IPv6 explicit null) or nibble 6 is IPv6; nibble 0 is
 *   a pseudowire control word (`pwControlWord`, RFC 4385) followed by an Ethernet frame
 *   (Ethernet over MPLS: the frame goes to `inner`, `encapsulation: 'eompls'`); nibble 1
 *   (PW associated channel, RFC 4385) and anything else are not decoded.
 * - IP: `ipVersion` 4 or 6, `srcAddr`, `dstAddr` (dotted IPv4, RFC 5952 IPv6), `protocol`
 *   (IPv4 protocol; for IPv6 the upper-layer header after the extension headers), `tos`
 *   (IPv4 TOS byte or IPv6 traffic class) with `dscp` (tos >> 2) and `ecn` (tos & 3),
 *   `ttl` (TTL or hop limit).
 *   IPv4 only: `ipTotalLength`, `ipId`, `ipFlags` (3 bits: reserved, DF, MF),
 *   `ipHeaderLength` (bytes, options skipped). IPv6 only: `ipv6PayloadLength`,
 *   `ipv6FlowLabel`, `ipv6ExtHeaders` (next-header codes of the extension headers walked,
 *   in order: 0 hop-by-hop, 43 routing, 44 fragment, 60 destination options, 51 AH, ...),
 *   `srv6Segments` / `srv6SegmentsLeft` (segment routing header, routing type 4; the list
 *   as carried, index 0 = last segment).
 *   Fragments (IPv4 flags/offset or the IPv6 fragment header): `fragmentOffset` (raw
 *   13-bit value, units of 8 bytes), `moreFragments`, and for IPv6 `ipId` (the fragment
 *   identification). A non-first fragment has no transport header: decoding stops.
 * - Transport: `srcPort`, `dstPort` (TCP, UDP), `tcpFlags` (9 bits: NS<<8 | CWR ECE URG
 *   ACK PSH RST SYN FIN), `udpLength`, `icmpType`, `icmpCode` (ICMP and ICMPv6).
 * - Tunnels: `greFlags` (first 16 bits: flags and version), `greProtocol`, `greKey`,
 *   `greSequence` (present only when their flag is set; for enhanced GRE v1 the key is
 *   payload length << 16 | call id), `vxlanVni` (UDP destination port 4789).
 *   `encapsulation` names the tunnel ('gre', 'ipip' for IP protocols 4/41, 'vxlan',
 *   'eompls') and `inner` holds the encapsulated packet in this same shape (nesting is
 *   capped at MAX_ENCAP_DEPTH levels; deeper tunnels leave `inner` undefined).
 *   The fields at each level describe that level only: outer headers are the primary
 *   fields; the inner packet's addresses and ports are in `inner`.
 * - Status: `truncatedAt` names the first layer whose header did not fit in the bytes
 *   (sFlow carries only the first ~128 bytes): fields read before that point are set,
 *   the rest are undefined. `invalidAt` names a layer whose header was malformed (wrong
 *   IP version nibble, IPv4 header length < 20, too many VLAN tags / labels / extension
 *   headers) and where decoding stopped. An inner packet has its own status fields.
 */
export interface PacketHeaders {
  srcMac: string | undefined;
  dstMac: string | undefined;
  etherType: number | undefined;
  vlanIds: number[];
  vlanPriorities: number[];
  vlanTpids: number[];

  mplsLabels: number[];
  mplsTcs: number[];
  mplsTtls: number[];
  pwControlWord: number | undefined;

  ipVersion: 4 | 6 | undefined;
  srcAddr: string | undefined;
  dstAddr: string | undefined;
  protocol: number | undefined;
  tos: number | undefined;
  dscp: number | undefined;
  ecn: number | undefined;
  ttl: number | undefined;
  ipTotalLength: number | undefined;
  ipHeaderLength: number | undefined;
  ipId: number | undefined;
  ipFlags: number | undefined;
  fragmentOffset: number | undefined;
  moreFragments: boolean | undefined;
  ipv6PayloadLength: number | undefined;
  ipv6FlowLabel: number | undefined;
  ipv6ExtHeaders: number[];
  srv6Segments: string[];
  srv6SegmentsLeft: number | undefined;

  srcPort: number | undefined;
  dstPort: number | undefined;
  tcpFlags: number | undefined;
  udpLength: number | undefined;
  icmpType: number | undefined;
  icmpCode: number | undefined;

  greFlags: number | undefined;
  greProtocol: number | undefined;
  greKey: number | undefined;
  greSequence: number | undefined;
  vxlanVni: number | undefined;
  encapsulation: Encapsulation | undefined;
  inner: PacketHeaders | undefined;

  truncatedAt: PacketLayer | undefined;
  invalidAt: PacketLayer | undefined;
}

/** Layers named in `truncatedAt` / `invalidAt`. */
export type PacketLayer =
  | 'ethernet'
  | 'vlan'
  | 'mpls'
  | 'pw'
  | 'ipv4'
  | 'ipv6'
  | 'ipv6-ext'
  | 'tcp'
  | 'udp'
  | 'icmp'
  | 'icmpv6'
  | 'gre'
  | 'ppp'
  | 'vxlan';

export type Encapsulation = 'gre' | 'ipip' | 'vxlan' | 'eompls';

/** Where decoding starts: the sFlow header protocol or the capture's link type. */
export type FirstLayer = 'ethernet' | 'ipv4' | 'ipv6' | 'mpls';

/** A fresh, empty result (all fields present, so every result has the same shape). */
export function createPacketHeaders(): PacketHeaders {
  return {
    srcMac: undefined,
    dstMac: undefined,
    etherType: undefined,
    vlanIds: [],
    vlanPriorities: [],
    vlanTpids: [],
    mplsLabels: [],
    mplsTcs: [],
    mplsTtls: [],
    pwControlWord: undefined,
    ipVersion: undefined,
    srcAddr: undefined,
    dstAddr: undefined,
    protocol: undefined,
    tos: undefined,
    dscp: undefined,
    ecn: undefined,
    ttl: undefined,
    ipTotalLength: undefined,
    ipHeaderLength: undefined,
    ipId: undefined,
    ipFlags: undefined,
    fragmentOffset: undefined,
    moreFragments: undefined,
    ipv6PayloadLength: undefined,
    ipv6FlowLabel: undefined,
    ipv6ExtHeaders: [],
    srv6Segments: [],
    srv6SegmentsLeft: undefined,
    srcPort: undefined,
    dstPort: undefined,
    tcpFlags: undefined,
    udpLength: undefined,
    icmpType: undefined,
    icmpCode: undefined,
    greFlags: undefined,
    greProtocol: undefined,
    greKey: undefined,
    greSequence: undefined,
    vxlanVni: undefined,
    encapsulation: undefined,
    inner: undefined,
    truncatedAt: undefined,
    invalidAt: undefined,
  };
}

/** Inner results kept aside when a reused `out` decodes a packet without a tunnel. */
const spareInner = new WeakMap<PacketHeaders, PacketHeaders>();

/** Clears `h` for reuse, keeping its arrays (and its inner object aside). */
export function resetPacketHeaders(h: PacketHeaders): void {
  h.srcMac = undefined;
  h.dstMac = undefined;
  h.etherType = undefined;
  if (h.vlanIds.length !== 0) h.vlanIds.length = 0;
  if (h.vlanPriorities.length !== 0) h.vlanPriorities.length = 0;
  if (h.vlanTpids.length !== 0) h.vlanTpids.length = 0;
  if (h.mplsLabels.length !== 0) h.mplsLabels.length = 0;
  if (h.mplsTcs.length !== 0) h.mplsTcs.length = 0;
  if (h.mplsTtls.length !== 0) h.mplsTtls.length = 0;
  h.pwControlWord = undefined;
  h.ipVersion = undefined;
  h.srcAddr = undefined;
  h.dstAddr = undefined;
  h.protocol = undefined;
  h.tos = undefined;
  h.dscp = undefined;
  h.ecn = undefined;
  h.ttl = undefined;
  h.ipTotalLength = undefined;
  h.ipHeaderLength = undefined;
  h.ipId = undefined;
  h.ipFlags = undefined;
  h.fragmentOffset = undefined;
  h.moreFragments = undefined;
  h.ipv6PayloadLength = undefined;
  h.ipv6FlowLabel = undefined;
  if (h.ipv6ExtHeaders.length !== 0) h.ipv6ExtHeaders.length = 0;
  if (h.srv6Segments.length !== 0) h.srv6Segments.length = 0;
  h.srv6SegmentsLeft = undefined;
  h.srcPort = undefined;
  h.dstPort = undefined;
  h.tcpFlags = undefined;
  h.udpLength = undefined;
  h.icmpType = undefined;
  h.icmpCode = undefined;
  h.greFlags = undefined;
  h.greProtocol = undefined;
  h.greKey = undefined;
  h.greSequence = undefined;
  h.vxlanVni = undefined;
  h.encapsulation = undefined;
  if (h.inner !== undefined) {
    spareInner.set(h, h.inner);
    h.inner = undefined;
  }
  h.truncatedAt = undefined;
  h.invalidAt = undefined;
}

/** An empty inner result for `h`, reusing the one it had before when there is one. */
export function takeInner(h: PacketHeaders): PacketHeaders {
  const spare = spareInner.get(h);
  if (spare === undefined) return createPacketHeaders();
  resetPacketHeaders(spare);
  return spare;
}
