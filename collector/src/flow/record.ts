import type { FieldValue, FlowField, RecordLayout } from '../protocol/templates/types.js';

/**
 * Where a sampling rate came from: the packet header (v5), the record itself, options
 * data the exporter sent, the sFlow sample, or the configuration.
 */
export type SamplingSource =
  | 'header'
  | 'record'
  | 'options'
  | 'sample'
  | 'config-default'
  | 'config-override';

/** What a record describes: a flow, an options record (exporter metadata), or counters. */
export type RecordKind = 'flow' | 'options' | 'counters';

export type ExportVersion = 1 | 2 | 4 | 5 | 7 | 9 | 10;

export interface ExporterInfo {
  /** Exporter address as text (v4 or v6). */
  readonly address: string;
  /** UDP source port, when known. */
  readonly port: number | undefined;
  /** 'netflow' covers NetFlow v1-v9 and IPFIX (v10); 'sflow' covers sFlow v2/v4/v5. */
  readonly protocol: 'netflow' | 'sflow';
  readonly version: ExportVersion;
  /** v9 source id, IPFIX observation domain, v5 engine, sFlow sub-agent. */
  readonly domain: number;
  readonly sequence: number;
  /** Exporter uptime at export (ms), where the format says. */
  readonly uptimeMs: number | undefined;
  /** Export time from the header (ms since the epoch), where the format says. */
  readonly exportTimeMs: number | undefined;
  /** sFlow agent address (may differ from the UDP source). */
  readonly agent?: string;
}

/**
 * The normalized flow record every format maps to, and every sink reads. Well-known
 * facts are lifted into typed fields (these become ECS fields); `fields` keeps every
 * element the exporter sent, under its registry name (these become `netflow.*`).
 */
export interface FlowRecord {
  kind: RecordKind;
  exporter: ExporterInfo;
  receivedMs: number;
  startMs?: number | undefined;
  endMs?: number | undefined;

  srcAddr?: string | undefined;
  dstAddr?: string | undefined;
  /**
   * srcAddr as an unsigned 32-bit number, when it is an IPv4 address the decoder read
   * (FlowField.ipv4): the document writer writes its digits and hashes its bytes without
   * the text. When set, srcAddr is its text: the NetFlow producer's records
   * (netflow-record.ts) make that text on first read and drop the number when srcAddr
   * is set; a record made otherwise must keep the two in step itself.
   */
  srcIpv4?: number | undefined;
  /** dstAddr as a number, as srcIpv4. */
  dstIpv4?: number | undefined;
  srcPort?: number | undefined;
  dstPort?: number | undefined;
  /** IANA protocol number. */
  protocol?: number | undefined;
  ipVersion?: 4 | 6 | undefined;
  bytes?: number | undefined;
  packets?: number | undefined;
  /** Biflow (RFC 5103) counters of the reverse direction, destination to source. */
  reverseBytes?: number | undefined;
  reversePackets?: number | undefined;
  srcMac?: string | undefined;
  dstMac?: string | undefined;
  vlan?: number | undefined;
  /** Inner VLAN of QinQ, when known. */
  innerVlan?: number | undefined;
  inInterface?: number | undefined;
  outInterface?: number | undefined;
  srcAs?: number | undefined;
  dstAs?: number | undefined;
  nextHop?: string | undefined;
  srcMask?: number | undefined;
  dstMask?: number | undefined;
  tcpFlags?: number | undefined;
  tos?: number | undefined;
  icmpType?: number | undefined;
  icmpCode?: number | undefined;
  /** ECS network.direction. */
  direction?: 'ingress' | 'egress' | 'unknown' | undefined;

  /** 1-in-N packet sampling in force for this record (1 when unsampled and known). */
  samplingRate?: number | undefined;
  /** Where the rate came from, for people wondering why counts were scaled. */
  samplingSource?: SamplingSource | undefined;

  /** Every decoded element (NetFlow/IPFIX) for `netflow.*`. */
  fields: readonly FlowField[];
  /**
   * When set (with values): the same elements as `fields`, as the decoder's shared
   * layout, and their values (IPv4 addresses as numbers, layout.ipv4). The document
   * writer reads these instead of `fields`. A NetflowRecord drops them when `fields` is
   * set; a record made otherwise must keep them in step itself.
   */
  layout?: RecordLayout | undefined;
  values?: readonly FieldValue[] | undefined;
  /** Format-specific extras, nested under the format's namespace (e.g. sflow.*). */
  extra?: Record<string, unknown> | undefined;
}
