import type { DecodeReason } from '../errors.js';
import type { PacketHeaders } from '../packet/headers.js';

/**
 * The result of `decodeSflow`. `ok` is false only when the datagram header could not be
 * read (then `datagram` is undefined and `errors` says why). Otherwise every sample that
 * could be framed is in `datagram.samples`, and what went wrong inside a sample or a
 * record is listed in `errors` (that sample/record is kept raw, the others are intact).
 */
export interface SflowResult {
  ok: boolean;
  datagram: SflowDatagram | undefined;
  errors: SflowIssue[];
}

/** Something in a datagram that could not be decoded (counted per exporter and reason). */
export interface SflowIssue {
  readonly reason: DecodeReason;
  readonly message: string;
  /** Byte offset in the datagram. */
  readonly offset: number | undefined;
  /** Index of the sample in `datagram.samples` order, when inside one. */
  readonly sample: number | undefined;
}

/** Datagram header (sFlow v5 `sample_datagram_v5`; v2/v4 per RFC 3176, no sub-agent). */
export interface SflowDatagram {
  version: 2 | 4 | 5;
  /** 0 unknown, 1 IPv4, 2 IPv6. */
  agentAddressType: number;
  /** Dotted IPv4 or RFC 5952 IPv6; undefined for address type 0. */
  agentAddress: string | undefined;
  /** v5 sub-agent id; 0 for v2/v4, which have none. */
  subAgentId: number;
  sequenceNumber: number;
  /** Agent uptime in milliseconds (32-bit, wraps after ~49.7 days). */
  uptimeMs: number;
  /** Sample count as declared in the header. */
  sampleCount: number;
  samples: SflowSample[];
  /** Samples of a type this decoder does not know, kept as `kind: 'raw'`. */
  unknownSamples: number;
  /** Flow and counter records of a format this decoder does not know, kept raw. */
  unknownRecords: number;
}

export type SflowSample = SflowFlowSample | SflowCounterSample | SflowRawSample;

/**
 * Interface encodings (sFlow v5 "Input/output port information"): the compact form packs
 * the format in the top 2 bits and a 30-bit value; the expanded form has both as 32-bit
 * words. 'single': value is an ifIndex (0 unknown; 0x3FFFFFFF = the device itself);
 * 'discard': value is the drop reason code (0-255 are ICMP unreachable codes, 256 and up
 * the spec's other reasons);
 * 'multiple': value is the number of output interfaces (0 = unknown, more than one);
 * 'unknown': a format number the spec does not define (the value is kept as sent).
 * v2/v4: input is a plain ifIndex; output has the top bit for 'multiple' (value = count).
 */
export type SflowInterfaceFormat = 'single' | 'discard' | 'multiple' | 'unknown';

/** flow_sample (enterprise 0, format 1) and flow_sample_expanded (format 3); v2/v4 FLOWSAMPLE. */
export interface SflowFlowSample {
  kind: 'flow';
  enterprise: number;
  format: number;
  expanded: boolean;
  sequenceNumber: number;
  /** 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry. */
  sourceIdType: number;
  sourceIdIndex: number;
  samplingRate: number;
  samplePool: number;
  drops: number;
  inputFormat: SflowInterfaceFormat;
  inputValue: number;
  outputFormat: SflowInterfaceFormat;
  outputValue: number;
  /** Record count as declared (v2/v4: 1 for the packet data + the extended records). */
  recordCount: number;
  records: SflowFlowRecord[];
}

/** counters_sample (format 2) and counters_sample_expanded (format 4); v2/v4 COUNTERSSAMPLE. */
export interface SflowCounterSample {
  kind: 'counters';
  enterprise: number;
  format: number;
  expanded: boolean;
  sequenceNumber: number;
  sourceIdType: number;
  sourceIdIndex: number;
  /** v2/v4 only: counter polling interval in seconds. */
  samplingInterval: number | undefined;
  /** v2/v4 only: the counters_type (1 generic, 2 ethernet, 3 token ring, 4 FDDI, 5 VG, 6 WAN, 7 VLAN). */
  countersType: number | undefined;
  recordCount: number;
  records: SflowCounterRecord[];
}

/** A sample of an unknown type, or one whose fixed header could not be decoded (`error`). */
export interface SflowRawSample {
  kind: 'raw';
  enterprise: number;
  format: number;
  /** The sample body (a view into the datagram). */
  raw: Uint8Array;
  error: SflowIssue | undefined;
}

export type SflowFlowRecord =
  | SflowRawHeaderRecord
  | SflowEthernetFrameRecord
  | SflowIpv4Record
  | SflowIpv6Record
  | SflowExtendedSwitchRecord
  | SflowExtendedRouterRecord
  | SflowExtendedGatewayRecord
  | SflowExtendedUserRecord
  | SflowExtendedUrlRecord
  | SflowRawRecord;

/** sampled_header (0, 1); v2/v4 packet data type 1 (no `stripped`: 0). */
export interface SflowRawHeaderRecord {
  type: 'raw_header';
  enterprise: 0;
  format: 1;
  /** 1 Ethernet, 11 IPv4, 12 IPv6, 13 MPLS, ... (sFlow header_protocol). */
  headerProtocol: number;
  /** Length of the whole frame on the wire (includes the FCS for Ethernet). */
  frameLength: number;
  /** Bytes removed before sampling (e.g. 4 for the FCS). */
  stripped: number;
  /** The sampled header bytes (a view into the datagram). */
  header: Uint8Array;
  /** The header decoded by `parsePacket` (Ethernet, IPv4, IPv6, MPLS); else undefined. */
  packet: PacketHeaders | undefined;
}

/** sampled_ethernet (0, 2). */
export interface SflowEthernetFrameRecord {
  type: 'ethernet_frame';
  enterprise: 0;
  format: 2;
  length: number;
  srcMac: string;
  dstMac: string;
  etherType: number;
}

/** sampled_ipv4 (0, 3); v2/v4 packet data type 2. */
export interface SflowIpv4Record {
  type: 'ipv4';
  enterprise: 0;
  format: 3;
  length: number;
  protocol: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  tos: number;
}

/** sampled_ipv6 (0, 4); v2/v4 packet data type 3. */
export interface SflowIpv6Record {
  type: 'ipv6';
  enterprise: 0;
  format: 4;
  length: number;
  protocol: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  priority: number;
}

/** extended_switch (0, 1001); v2/v4 extended type 1. */
export interface SflowExtendedSwitchRecord {
  type: 'extended_switch';
  enterprise: 0;
  format: 1001;
  srcVlan: number;
  srcPriority: number;
  dstVlan: number;
  dstPriority: number;
}

/** extended_router (0, 1002); v2/v4 extended type 2. */
export interface SflowExtendedRouterRecord {
  type: 'extended_router';
  enterprise: 0;
  format: 1002;
  /** undefined when the address type is 0 (unknown). */
  nextHop: string | undefined;
  srcMaskLen: number;
  dstMaskLen: number;
}

export interface SflowAsPathSegment {
  /** 1 AS_SET, 2 AS_SEQUENCE (v2 carries a plain list: one segment of type 2). */
  type: number;
  asns: number[];
}

/** extended_gateway (0, 1003); v2/v4 extended type 3 (no next hop; v2 no communities). */
export interface SflowExtendedGatewayRecord {
  type: 'extended_gateway';
  enterprise: 0;
  format: 1003;
  /** v5 only; undefined for v2/v4 and for address type 0. */
  nextHop: string | undefined;
  /** This router's AS. */
  as: number;
  srcAs: number;
  srcPeerAs: number;
  /** AS path to the destination, segment by segment. */
  asPath: SflowAsPathSegment[];
  communities: number[];
  /** 0 when absent (v2). */
  localPref: number;
}

/** v2/v4 extended user (RFC 3176 type 4); v5's (0, 1004) is kept raw. */
export interface SflowExtendedUserRecord {
  type: 'extended_user';
  enterprise: 0;
  format: 1004;
  srcUser: string;
  dstUser: string;
}

/** v2/v4 extended URL (RFC 3176 type 5); v5's (0, 1005) is kept raw. */
export interface SflowExtendedUrlRecord {
  type: 'extended_url';
  enterprise: 0;
  format: 1005;
  /** 1 URL of the source address, 2 of the destination. */
  direction: number;
  url: string;
}

/** A record of a format not decoded here, or one that failed to decode (`error`). */
export interface SflowRawRecord {
  type: 'raw';
  enterprise: number;
  format: number;
  /** The record body (a view into the datagram). */
  raw: Uint8Array;
  error: SflowIssue | undefined;
}

export type SflowCounterRecord =
  | SflowGenericInterfaceCounters
  | SflowEthernetInterfaceCounters
  | SflowVlanCounters
  | SflowProcessorCounters
  | SflowRawRecord;

/** 64-bit counters: a number when exact (< 2^53), else a bigint. */
export type Counter64 = number | bigint;

/** if_counters (0, 1); in v2/v4 the common part of counters types 1-6. */
export interface SflowGenericInterfaceCounters {
  type: 'generic_interface';
  enterprise: 0;
  format: 1;
  ifIndex: number;
  ifType: number;
  ifSpeed: Counter64;
  /** 0 unknown, 1 full duplex, 2 half duplex, 3 in, 4 out. */
  ifDirection: number;
  /** bit 0 admin up, bit 1 operational up. */
  ifStatus: number;
  ifInOctets: Counter64;
  ifInUcastPkts: number;
  ifInMulticastPkts: number;
  ifInBroadcastPkts: number;
  ifInDiscards: number;
  ifInErrors: number;
  ifInUnknownProtos: number;
  ifOutOctets: Counter64;
  ifOutUcastPkts: number;
  ifOutMulticastPkts: number;
  ifOutBroadcastPkts: number;
  ifOutDiscards: number;
  ifOutErrors: number;
  ifPromiscuousMode: number;
}

/** ethernet_counters (0, 2): dot3Stats from the EtherLike-MIB. */
export interface SflowEthernetInterfaceCounters {
  type: 'ethernet_interface';
  enterprise: 0;
  format: 2;
  dot3StatsAlignmentErrors: number;
  dot3StatsFCSErrors: number;
  dot3StatsSingleCollisionFrames: number;
  dot3StatsMultipleCollisionFrames: number;
  dot3StatsSQETestErrors: number;
  dot3StatsDeferredTransmissions: number;
  dot3StatsLateCollisions: number;
  dot3StatsExcessiveCollisions: number;
  dot3StatsInternalMacTransmitErrors: number;
  dot3StatsCarrierSenseErrors: number;
  dot3StatsFrameTooLongs: number;
  dot3StatsInternalMacReceiveErrors: number;
  dot3StatsSymbolErrors: number;
}

/** vlan_counters (0, 5); v2/v4 counters type 7. */
export interface SflowVlanCounters {
  type: 'vlan';
  enterprise: 0;
  format: 5;
  vlanId: number;
  octets: Counter64;
  ucastPkts: number;
  multicastPkts: number;
  broadcastPkts: number;
  discards: number;
}

/** processor (0, 1001). CPU loads are percentages x 100 (5000 = 50%). */
export interface SflowProcessorCounters {
  type: 'processor';
  enterprise: 0;
  format: 1001;
  cpu5s: number;
  cpu1m: number;
  cpu5m: number;
  totalMemory: Counter64;
  freeMemory: Counter64;
}
