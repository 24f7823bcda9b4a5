import { fieldsOf } from '../protocol/templates/decoded-record.js';
import { ipv4Text } from '../protocol/templates/ipv4-field.js';
import type { FieldValue, FlowField, RecordLayout } from '../protocol/templates/types.js';
import type { ExporterInfo, FlowRecord, RecordKind, SamplingSource } from './record.js';

// The FlowRecord the NetFlow/IPFIX producer makes. A class, for two reasons:
// - every member exists from the start, so all records share one hidden class (the
//   document writer's reads stay monomorphic whatever the template) and a record is one
//   allocation, not a literal grown member by member;
// - the addresses decoded as IPv4 numbers (srcIpv4, dstIpv4, nextHopIpv4) get their
//   text only when srcAddr, dstAddr or nextHop is read, which the indexing path never
//   does (it writes the digits from the number).
// - its elements are the decoded record's values beside the template's layout; the
//   `fields` objects are made only when someone reads them (fieldsOf, decoded-record.ts).
// Setting srcAddr, dstAddr or nextHop replaces the number, and setting fields drops the
// values, so the two never disagree.
// Members that are not known are undefined (present, not absent, unlike a literal).
// srcAddr, dstAddr, nextHop and fields are accessors on the prototype: a spread copy
// (`{ ...r }`) or Object.keys leaves them out; copy them by name when copying a record.

export class NetflowRecord implements FlowRecord {
  startMs: number | undefined = undefined;
  endMs: number | undefined = undefined;
  srcPort: number | undefined = undefined;
  dstPort: number | undefined = undefined;
  protocol: number | undefined = undefined;
  ipVersion: 4 | 6 | undefined = undefined;
  bytes: number | undefined = undefined;
  packets: number | undefined = undefined;
  reverseBytes: number | undefined = undefined;
  reversePackets: number | undefined = undefined;
  srcMac: string | undefined = undefined;
  dstMac: string | undefined = undefined;
  vlan: number | undefined = undefined;
  innerVlan: number | undefined = undefined;
  inInterface: number | undefined = undefined;
  outInterface: number | undefined = undefined;
  srcAs: number | undefined = undefined;
  dstAs: number | undefined = undefined;
  srcMask: number | undefined = undefined;
  dstMask: number | undefined = undefined;
  tcpFlags: number | undefined = undefined;
  tos: number | undefined = undefined;
  icmpType: number | undefined = undefined;
  icmpCode: number | undefined = undefined;
  direction: 'ingress' | 'egress' | 'unknown' | undefined = undefined;
  samplingRate: number | undefined = undefined;
  samplingSource: SamplingSource | undefined = undefined;
  extra: Record<string, unknown> | undefined = undefined;
  /** The source address as a number while it came from one (see srcAddr). */
  srcIpv4: number | undefined = undefined;
  dstIpv4: number | undefined = undefined;
  nextHopIpv4: number | undefined = undefined;
  private srcText: string | undefined = undefined;
  private dstText: string | undefined = undefined;
  private nextHopText: string | undefined = undefined;
  layout: RecordLayout | undefined;
  values: readonly FieldValue[] | undefined;
  private ownFields: readonly FlowField[] | undefined = undefined;

  constructor(
    public kind: RecordKind,
    public exporter: ExporterInfo,
    public receivedMs: number,
    layout: RecordLayout,
    values: readonly FieldValue[],
  ) {
    this.layout = layout;
    this.values = values;
  }

  /**
   * Makes this record a new one, for the generated set producers of a NetflowProducer
   * that recycles its records (netflow-sets.ts): every member back to undefined, the
   * kind, exporter, arrival and layout set. The values are left for the caller, which
   * overwrites them.
   */
  recycle(
    kind: RecordKind,
    exporter: ExporterInfo,
    receivedMs: number,
    layout: RecordLayout,
  ): void {
    this.kind = kind;
    this.exporter = exporter;
    this.receivedMs = receivedMs;
    this.layout = layout;
    this.startMs = undefined;
    this.endMs = undefined;
    this.srcPort = undefined;
    this.dstPort = undefined;
    this.protocol = undefined;
    this.ipVersion = undefined;
    this.bytes = undefined;
    this.packets = undefined;
    this.reverseBytes = undefined;
    this.reversePackets = undefined;
    this.srcMac = undefined;
    this.dstMac = undefined;
    this.vlan = undefined;
    this.innerVlan = undefined;
    this.inInterface = undefined;
    this.outInterface = undefined;
    this.srcAs = undefined;
    this.dstAs = undefined;
    this.srcMask = undefined;
    this.dstMask = undefined;
    this.tcpFlags = undefined;
    this.tos = undefined;
    this.icmpType = undefined;
    this.icmpCode = undefined;
    this.direction = undefined;
    this.samplingRate = undefined;
    this.samplingSource = undefined;
    this.extra = undefined;
    this.srcIpv4 = undefined;
    this.dstIpv4 = undefined;
    this.nextHopIpv4 = undefined;
    this.srcText = undefined;
    this.dstText = undefined;
    this.nextHopText = undefined;
    this.ownFields = undefined;
  }

  get fields(): readonly FlowField[] {
    // Until fields are set, layout and values are (the setter drops them).
    this.ownFields ??= fieldsOf(this.layout as RecordLayout, this.values as readonly FieldValue[]);
    return this.ownFields;
  }

  set fields(v: readonly FlowField[]) {
    this.ownFields = v;
    this.layout = undefined;
    this.values = undefined;
  }

  get srcAddr(): string | undefined {
    if (this.srcText === undefined && this.srcIpv4 !== undefined) {
      this.srcText = ipv4Text(this.srcIpv4);
    }
    return this.srcText;
  }

  set srcAddr(v: string | undefined) {
    this.srcText = v;
    this.srcIpv4 = undefined;
  }

  get dstAddr(): string | undefined {
    if (this.dstText === undefined && this.dstIpv4 !== undefined) {
      this.dstText = ipv4Text(this.dstIpv4);
    }
    return this.dstText;
  }

  set dstAddr(v: string | undefined) {
    this.dstText = v;
    this.dstIpv4 = undefined;
  }

  get nextHop(): string | undefined {
    if (this.nextHopText === undefined && this.nextHopIpv4 !== undefined) {
      this.nextHopText = ipv4Text(this.nextHopIpv4);
    }
    return this.nextHopText;
  }

  set nextHop(v: string | undefined) {
    this.nextHopText = v;
    this.nextHopIpv4 = undefined;
  }

  /** srcAddr as set as text, without making text from a number. */
  srcTextOnly(): string | undefined {
    return this.srcText;
  }

  dstTextOnly(): string | undefined {
    return this.dstText;
  }

  /** The source address is the number n (its text made when read). */
  setSrcIpv4(n: number): void {
    this.srcIpv4 = n;
    this.srcText = undefined;
  }

  setDstIpv4(n: number): void {
    this.dstIpv4 = n;
    this.dstText = undefined;
  }

  setNextHopIpv4(n: number): void {
    this.nextHopIpv4 = n;
    this.nextHopText = undefined;
  }
}
