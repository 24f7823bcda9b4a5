import { ipv6ToString, macToString } from '../protocol/address.js';
import { ipv4Text } from '../protocol/templates/ipv4-field.js';
import type { FieldValue, FlowField, RecordLayout } from '../protocol/templates/types.js';
import type { ExporterInfo, FlowRecord, RecordKind, SamplingSource } from './record.js';

// The FlowRecord of an sFlow flow sample made by the fast lane (sflow-fast.ts). A class
// for the reasons NetflowRecord is one (one hidden class, one allocation, every member
// present from the start), and so that the sampled packet's addresses stay bytes and
// numbers: the MACs as two 24-bit halves, IPv4 addresses as numbers (srcIpv4, dstIpv4,
// which the document writer already reads), IPv6 addresses as 16 bytes each in one
// copy. Their text is made only when srcMac, dstMac, srcAddr or dstAddr is read, which
// the indexing path never does (sflow-document.ts writes them from the numbers and
// bytes). Setting one of them as text drops its number or bytes, so the two never
// disagree. Members that are not known are undefined (present, not absent).

const NO_FIELDS: readonly FlowField[] = Object.freeze([]);

/** MAC text from its two 24-bit halves, as macToString writes it. */
const MAC_BYTES = new Uint8Array(6);
function macOf(hi: number, lo: number): string {
  const b = MAC_BYTES;
  b[0] = hi >>> 16;
  b[1] = hi >>> 8;
  b[2] = hi;
  b[3] = lo >>> 16;
  b[4] = lo >>> 8;
  b[5] = lo;
  return macToString(b, 0);
}

// IPv6 addresses are copied into blocks of this size, 32 bytes per record, instead of
// a typed array (three objects) per record; a block is garbage once its records are.
const IPV6_BLOCK = 8192;
let block = new Uint8Array(IPV6_BLOCK);
let blockUsed = 0;

export class SflowRecord implements FlowRecord {
  kind: RecordKind = 'flow';
  startMs: number | undefined = undefined;
  endMs: number | undefined = undefined;
  srcPort: number | undefined = undefined;
  dstPort: number | undefined = undefined;
  protocol: number | undefined = undefined;
  ipVersion: 4 | 6 | undefined = undefined;
  bytes: number | undefined = undefined;
  packets: number | undefined = 1;
  reverseBytes: number | undefined = undefined;
  reversePackets: number | undefined = undefined;
  vlan: number | undefined = undefined;
  innerVlan: number | undefined = undefined;
  inInterface: number | undefined = undefined;
  outInterface: number | undefined = undefined;
  srcAs: number | undefined = undefined;
  dstAs: number | undefined = undefined;
  nextHop: string | undefined = undefined;
  srcMask: number | undefined = undefined;
  dstMask: number | undefined = undefined;
  tcpFlags: number | undefined = undefined;
  tos: number | undefined = undefined;
  icmpType: number | undefined = undefined;
  icmpCode: number | undefined = undefined;
  direction: 'ingress' | 'egress' | 'unknown' | undefined = undefined;
  samplingRate: number | undefined = undefined;
  samplingSource: SamplingSource | undefined = undefined;
  fields: readonly FlowField[] = NO_FIELDS;
  layout: RecordLayout | undefined = undefined;
  values: readonly FieldValue[] | undefined = undefined;
  extra: Record<string, unknown> | undefined = undefined;
  srcIpv4: number | undefined = undefined;
  dstIpv4: number | undefined = undefined;
  /**
   * IPv6 addresses as bytes: `ip6` holds the source at ip6At and the destination at
   * ip6At + 16; srcIp6 / dstIp6 say whether each is in force (false once set as text or
   * as IPv4). `ip6` is a block shared by many records (IPV6_BLOCK), written once.
   */
  ip6: Uint8Array | undefined = undefined;
  ip6At = 0;
  srcIp6 = false;
  dstIp6 = false;
  /** MACs as their first and last three bytes (24-bit numbers), -1 when not one. */
  srcMacHi = -1;
  srcMacLo = -1;
  dstMacHi = -1;
  dstMacLo = -1;
  private srcText: string | undefined = undefined;
  private dstText: string | undefined = undefined;
  private srcMacText: string | undefined = undefined;
  private dstMacText: string | undefined = undefined;

  constructor(
    public exporter: ExporterInfo,
    public receivedMs: number,
  ) {}

  get srcAddr(): string | undefined {
    if (this.srcText === undefined) {
      if (this.srcIpv4 !== undefined) this.srcText = ipv4Text(this.srcIpv4);
      else if (this.srcIp6) this.srcText = ipv6ToString(this.ip6 as Uint8Array, this.ip6At);
    }
    return this.srcText;
  }

  set srcAddr(v: string | undefined) {
    this.srcText = v;
    this.srcIpv4 = undefined;
    this.srcIp6 = false;
  }

  get dstAddr(): string | undefined {
    if (this.dstText === undefined) {
      if (this.dstIpv4 !== undefined) this.dstText = ipv4Text(this.dstIpv4);
      else if (this.dstIp6) this.dstText = ipv6ToString(this.ip6 as Uint8Array, this.ip6At + 16);
    }
    return this.dstText;
  }

  set dstAddr(v: string | undefined) {
    this.dstText = v;
    this.dstIpv4 = undefined;
    this.dstIp6 = false;
  }

  get srcMac(): string | undefined {
    if (this.srcMacText === undefined && this.srcMacHi >= 0) {
      this.srcMacText = macOf(this.srcMacHi, this.srcMacLo);
    }
    return this.srcMacText;
  }

  set srcMac(v: string | undefined) {
    this.srcMacText = v;
    this.srcMacHi = -1;
    this.srcMacLo = -1;
  }

  get dstMac(): string | undefined {
    if (this.dstMacText === undefined && this.dstMacHi >= 0) {
      this.dstMacText = macOf(this.dstMacHi, this.dstMacLo);
    }
    return this.dstMacText;
  }

  set dstMac(v: string | undefined) {
    this.dstMacText = v;
    this.dstMacHi = -1;
    this.dstMacLo = -1;
  }

  /** Whether srcMac is set (as srcMac !== undefined, without making its text). */
  hasSrcMac(): boolean {
    return this.srcMacHi >= 0 || this.srcMacText !== undefined;
  }

  hasDstMac(): boolean {
    return this.dstMacHi >= 0 || this.dstMacText !== undefined;
  }

  /** srcMac / dstMac as set as text, without making text from the numbers. */
  srcMacTextOnly(): string | undefined {
    return this.srcMacText;
  }

  dstMacTextOnly(): string | undefined {
    return this.dstMacText;
  }

  srcTextOnly(): string | undefined {
    return this.srcText;
  }

  dstTextOnly(): string | undefined {
    return this.dstText;
  }

  /** Both MACs from the bytes: destination at `at`, source at `at + 6`. */
  setMacs(b: Uint8Array, at: number): void {
    this.dstMacHi =
      ((b[at] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at + 2] as number);
    this.dstMacLo =
      ((b[at + 3] as number) << 16) | ((b[at + 4] as number) << 8) | (b[at + 5] as number);
    this.srcMacHi =
      ((b[at + 6] as number) << 16) | ((b[at + 7] as number) << 8) | (b[at + 8] as number);
    this.srcMacLo =
      ((b[at + 9] as number) << 16) | ((b[at + 10] as number) << 8) | (b[at + 11] as number);
    this.srcMacText = undefined;
    this.dstMacText = undefined;
  }

  /** The source MAC from 6 bytes at `at` (an Ethernet frame record's). */
  setSrcMacAt(b: Uint8Array, at: number): void {
    this.srcMacHi =
      ((b[at] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at + 2] as number);
    this.srcMacLo =
      ((b[at + 3] as number) << 16) | ((b[at + 4] as number) << 8) | (b[at + 5] as number);
    this.srcMacText = undefined;
  }

  setDstMacAt(b: Uint8Array, at: number): void {
    this.dstMacHi =
      ((b[at] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at + 2] as number);
    this.dstMacLo =
      ((b[at + 3] as number) << 16) | ((b[at + 4] as number) << 8) | (b[at + 5] as number);
    this.dstMacText = undefined;
  }

  /** Both IPv4 addresses from the bytes: source at `at`, destination at `at + 4`. */
  setIpv4s(b: Uint8Array, at: number): void {
    this.srcIpv4 =
      (((b[at] as number) << 24) |
        ((b[at + 1] as number) << 16) |
        ((b[at + 2] as number) << 8) |
        (b[at + 3] as number)) >>>
      0;
    this.dstIpv4 =
      (((b[at + 4] as number) << 24) |
        ((b[at + 5] as number) << 16) |
        ((b[at + 6] as number) << 8) |
        (b[at + 7] as number)) >>>
      0;
    this.srcText = undefined;
    this.dstText = undefined;
    this.srcIp6 = false;
    this.dstIp6 = false;
  }

  /** Both IPv6 addresses from the bytes: source at `at`, destination at `at + 16`. */
  setIpv6s(b: Uint8Array, at: number): void {
    if (blockUsed + 32 > IPV6_BLOCK) {
      block = new Uint8Array(IPV6_BLOCK);
      blockUsed = 0;
    }
    const ip6 = block;
    const to = blockUsed;
    blockUsed += 32;
    for (let i = 0; i < 32; i++) ip6[to + i] = b[at + i] as number;
    this.ip6 = ip6;
    this.ip6At = to;
    this.srcIp6 = true;
    this.dstIp6 = true;
    this.srcIpv4 = undefined;
    this.dstIpv4 = undefined;
    this.srcText = undefined;
    this.dstText = undefined;
  }
}
