import { ipv4ToString, ipv6ToString } from '../protocol/address.js';
import { createPacketHeaders } from '../protocol/packet/headers.js';
import { outerAt, parsePacketAt, u32 } from '../protocol/packet/parse.js';
import { decodeCounterSampleV5, firstLayer, interfaceFormat } from '../protocol/sflow/decode.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import type { SamplingRates } from './sampling.js';
import { type SflowAsPathDoc, SflowGatewayDoc } from './sflow-extra.js';
import {
  EXTRA_GATEWAY,
  EXTRA_HEADER,
  EXTRA_ROUTER,
  EXTRA_SWITCH,
  SflowFlowExtra,
} from './sflow-flow-extra.js';
import { innerDoc, SflowProducer, sflowExporter } from './sflow-producer.js';
import { SflowRecord } from './sflow-record.js';

// The fast lane of sFlow v5: a datagram of flow samples read straight from its bytes
// into flow records (SflowRecord), without the decoder's objects in between (a sample,
// a record object per flow record, a reader per structure, a packet-header result and
// its arrays per sample, the addresses' text). It makes exactly the records that
// decodeSflow + SflowProducer make, for the datagrams it takes: sFlow v5 whose samples
// are flow samples (compact or expanded) whose records are all of the kinds it knows
// (sampled header, at most one, Ethernet, IPv4, IPv6, switch, router, gateway) and
// counter samples (decoded and made into records by the general path's own functions),
// with nothing malformed or cut anywhere. For any other datagram it answers undefined
// before anything is done with it, and the caller takes the general path (decodeSflow +
// SflowProducer), which also reports the issues. sflow-fast.test.ts holds the two to
// equal records and documents.

/**
 * A sampled IPv4 (4) or IPv6 (6) record at `p` (length, protocol, the two addresses, then
 * ports, TCP flags and ToS), for a sample without a sampled header.
 */
function sampledIp(r: SflowRecord, b: Uint8Array, p: number, version: 4 | 6): void {
  r.bytes ??= u32(b, p);
  r.ipVersion = version;
  if (version === 4) r.setIpv4s(b, p + 8);
  else r.setIpv6s(b, p + 8);
  r.protocol = u32(b, p + 4);
  const after = p + (version === 4 ? 16 : 40);
  r.srcPort = u32(b, after);
  r.dstPort = u32(b, after + 4);
  r.tcpFlags = u32(b, after + 8);
  r.tos = u32(b, after + 12);
}

/** IPv4 agents whose address text is kept (SflowFastLane.agentText). */
const AGENTS = 8;

/** Where the next read is; BAIL when the datagram must take the general path. */
const BAIL = -1;

export class SflowFastLane {
  /** The sampled header's decoding, reused (its arrays copied out where kept). */
  private readonly packet = createPacketHeaders();
  /** The last datagram's sequence stream and number (FlowDecoder tracks them). */
  agent: string | undefined = undefined;
  subAgentId = 0;
  sequenceNumber = 0;
  /** The last few IPv4 agents' addresses and their text (a slot per AGENTS). */
  private readonly agentNumbers: number[] = [];
  private readonly agentTexts: string[] = [];
  private agentNext = 0;
  /** A next hop's text, from address(); BAIL from address() when its type is unknown. */
  private nextHop: string | undefined = undefined;
  /** The extras groups (1 << EXTRA_*) the current sample's records have set. */
  private seen = 0;

  /** The general producer, for counter samples. */
  private readonly producer: SflowProducer;

  constructor(private readonly sampling: SamplingRates) {
    this.producer = new SflowProducer(sampling);
  }

  /**
   * The text of the IPv4 agent address at p: kept for the last few agents (a collector
   * hears from a few agents at a time), made for others.
   */
  private agentText(b: Uint8Array, p: number): string {
    const a = u32(b, p);
    const numbers = this.agentNumbers;
    for (let i = 0; i < numbers.length; i++) {
      if (numbers[i] === a) return this.agentTexts[i] as string;
    }
    const text = ipv4ToString(b, p);
    let slot = numbers.length;
    if (slot === AGENTS) {
      slot = this.agentNext;
      this.agentNext = (slot + 1) % AGENTS;
    }
    numbers[slot] = a;
    this.agentTexts[slot] = text;
    return text;
  }

  /**
   * The records of a datagram, or undefined when it is not one the lane takes (see
   * above); then nothing was changed and the general path decodes it.
   */
  produce(
    b: Uint8Array,
    address: string,
    port: number | undefined,
    receivedMs: number,
  ): FlowRecord[] | undefined {
    const n = b.length;
    if (n < 8 || u32(b, 0) !== 5) return undefined;
    const agentType = u32(b, 4);
    let p = 8;
    let agent: string | undefined;
    if (agentType === 1) {
      if (n - p < 4) return undefined;
      agent = this.agentText(b, p);
      p += 4;
    } else if (agentType === 2) {
      if (n - p < 16) return undefined;
      agent = ipv6ToString(b, p);
      p += 16;
    } else if (agentType !== 0) return undefined;
    if (n - p < 16) return undefined;
    const subAgentId = u32(b, p);
    const sequenceNumber = u32(b, p + 4);
    const uptimeMs = u32(b, p + 8);
    const count = u32(b, p + 12);
    p += 16;
    const exporter = sflowExporter(address, port, 5, subAgentId, sequenceNumber, uptimeMs, agent);
    const out: FlowRecord[] = [];
    for (let i = 0; i < count; i++) {
      if (n - p < 8) return undefined;
      const format = u32(b, p);
      const length = u32(b, p + 4);
      p += 8;
      if (length > n - p) return undefined;
      let r: FlowRecord | undefined;
      if (format === 1 || format === 3) {
        r = this.flow(b, p, p + length, format === 3, exporter, receivedMs);
      } else if (format === 2 || format === 4) {
        // Counter samples (a few per interface and minute) as the general path makes them.
        const s = decodeCounterSampleV5(b, p, p + length, format === 4);
        if (s !== undefined) r = this.producer.counters(s, exporter, receivedMs);
      }
      if (r === undefined) return undefined;
      out.push(r);
      p += length;
    }
    if (p !== n) return undefined;
    this.agent = agent;
    this.subAgentId = subAgentId;
    this.sequenceNumber = sequenceNumber;
    return out;
  }

  /** One flow sample in b[p, end); undefined when the datagram must take the general path. */
  private flow(
    b: Uint8Array,
    p: number,
    end: number,
    expanded: boolean,
    exporter: ExporterInfo,
    receivedMs: number,
  ): SflowRecord | undefined {
    let sequence: number;
    let sourceIdType: number;
    let sourceIdIndex: number;
    let samplingRate: number;
    let samplePool: number;
    let drops: number;
    let inFormat: number;
    let inputValue: number;
    let outFormat: number;
    let outputValue: number;
    let recordCount: number;
    if (expanded) {
      if (end - p < 44) return undefined;
      sequence = u32(b, p);
      sourceIdType = u32(b, p + 4);
      sourceIdIndex = u32(b, p + 8);
      samplingRate = u32(b, p + 12);
      samplePool = u32(b, p + 16);
      drops = u32(b, p + 20);
      inFormat = u32(b, p + 24);
      inputValue = u32(b, p + 28);
      outFormat = u32(b, p + 32);
      outputValue = u32(b, p + 36);
      recordCount = u32(b, p + 40);
      p += 44;
    } else {
      if (end - p < 32) return undefined;
      sequence = u32(b, p);
      const sid = u32(b, p + 4);
      sourceIdType = sid >>> 24;
      sourceIdIndex = sid & 0xffffff;
      samplingRate = u32(b, p + 8);
      samplePool = u32(b, p + 12);
      drops = u32(b, p + 16);
      const input = u32(b, p + 20);
      const output = u32(b, p + 24);
      inFormat = input >>> 30;
      inputValue = input & 0x3fffffff;
      outFormat = output >>> 30;
      outputValue = output & 0x3fffffff;
      recordCount = u32(b, p + 28);
      p += 32;
    }
    const inputFormat = interfaceFormat(inFormat);
    const outputFormat = interfaceFormat(outFormat);
    const r = new SflowRecord(exporter, receivedMs);
    if (inputFormat === 'single' && inputValue !== 0) r.inInterface = inputValue;
    if (outputFormat === 'single' && outputValue !== 0) r.outInterface = outputValue;
    const extra = new SflowFlowExtra(
      sequence,
      sourceIdType,
      sourceIdIndex,
      samplingRate,
      samplePool,
      drops,
      inputFormat,
      inputValue,
      outputFormat,
      outputValue,
      expanded,
    );
    this.seen = 0;
    let haveHeader = false;
    for (let j = 0; j < recordCount; j++) {
      if (end - p < 8) return undefined;
      const format = u32(b, p);
      const length = u32(b, p + 4);
      p += 8;
      if (length > end - p) return undefined;
      const rend = p + length;
      switch (format) {
        case 1: {
          const q = this.header(b, p, rend, r, extra);
          if (q === BAIL) return undefined;
          if (q === 1) haveHeader = true;
          break;
        }
        case 2: {
          // Ethernet frame: length, source MAC, destination MAC (each padded to 8), type.
          if (rend - p < 24) return undefined;
          r.bytes ??= u32(b, p);
          if (!r.hasSrcMac()) r.setSrcMacAt(b, p + 4);
          if (!r.hasDstMac()) r.setDstMacAt(b, p + 12);
          break;
        }
        case 3:
          if (rend - p < 32) return undefined;
          if (!haveHeader) sampledIp(r, b, p, 4);
          break;
        case 4:
          if (rend - p < 56) return undefined;
          if (!haveHeader) sampledIp(r, b, p, 6);
          break;
        case 1001: {
          if (rend - p < 16) return undefined;
          this.group(extra, EXTRA_SWITCH);
          const srcVlan = u32(b, p);
          // VLAN 0 means untagged.
          if (srcVlan > 0) r.vlan ??= srcVlan;
          extra.setSwitch(srcVlan, u32(b, p + 4), u32(b, p + 8), u32(b, p + 12));
          break;
        }
        case 1002: {
          const q = this.address(b, p, rend);
          if (q === BAIL || rend - q < 8) return undefined;
          this.group(extra, EXTRA_ROUTER);
          const nextHop = this.nextHop;
          const srcMaskLen = u32(b, q);
          const dstMaskLen = u32(b, q + 4);
          r.nextHop = nextHop;
          r.srcMask = srcMaskLen;
          r.dstMask = dstMaskLen;
          extra.setRouter(nextHop, srcMaskLen, dstMaskLen);
          break;
        }
        case 1003:
          if (!this.gateway(b, p, rend, r, extra)) return undefined;
          break;
        default:
          return undefined;
      }
      p = rend;
    }
    const d = this.sampling.decide(
      exporter.address,
      exporter.domain,
      undefined,
      samplingRate,
      'sample',
    );
    if (d.rate !== undefined) r.samplingRate = d.rate;
    if (d.source !== undefined) r.samplingSource = d.source;
    r.extra = extra as unknown as Record<string, unknown>;
    return r;
  }

  /**
   * The sampled header record in b[p, end): BAIL, 1 when its packet was decoded (the
   * record's outer headers set) or 0 when its protocol is not one parsePacket takes.
   */
  private header(
    b: Uint8Array,
    p: number,
    end: number,
    r: SflowRecord,
    extra: SflowFlowExtra,
  ): number {
    // A second sampled header adds its packet's new members after the others': rare,
    // left to the general path.
    if ((this.seen & (1 << EXTRA_HEADER)) !== 0 || end - p < 16) return BAIL;
    const headerProtocol = u32(b, p);
    const frameLength = u32(b, p + 4);
    const stripped = u32(b, p + 8);
    const length = u32(b, p + 12);
    p += 16;
    if (length > end - p) return BAIL;
    this.group(extra, EXTRA_HEADER);
    r.bytes = frameLength;
    extra.setHeader(headerProtocol, frameLength, stripped, length);
    const layer = firstLayer(headerProtocol);
    if (layer === undefined) return 0;
    const h = parsePacketAt(b, p, p + length, layer, this.packet);
    // The general producer's fromPacket, the addresses from where parsePacketAt found them.
    const mac = outerAt.mac;
    if (mac >= 0) r.setMacs(b, mac);
    else {
      r.srcMac = undefined;
      r.dstMac = undefined;
    }
    const vlans = h.vlanIds;
    if (vlans.length > 0) r.vlan = vlans[0];
    if (vlans.length > 1) r.innerVlan = vlans[1];
    if (h.ipVersion !== undefined) r.ipVersion = h.ipVersion;
    const ip = outerAt.ip;
    if (ip < 0) {
      r.srcAddr = undefined;
      r.dstAddr = undefined;
    } else if (h.ipVersion === 4) r.setIpv4s(b, ip);
    else r.setIpv6s(b, ip);
    r.protocol = h.protocol;
    r.tos = h.tos;
    r.srcPort = h.srcPort;
    r.dstPort = h.dstPort;
    r.tcpFlags = h.tcpFlags;
    r.icmpType = h.icmpType;
    r.icmpCode = h.icmpCode;
    // The general producer's packetExtra (arrays copied: the result is reused).
    if (vlans.length > 0) extra.vlan_ids = vlans.slice();
    if (h.mplsLabels.length > 0) extra.mpls_labels = h.mplsLabels.slice();
    if (h.ttl !== undefined) extra.ttl = h.ttl;
    if (h.ipv6FlowLabel !== undefined) extra.ipv6_flow_label = h.ipv6FlowLabel;
    if (h.srv6Segments.length > 0) extra.srv6_segments = h.srv6Segments.slice();
    if (h.vxlanVni !== undefined) extra.vxlan_vni = h.vxlanVni;
    if (h.encapsulation !== undefined) extra.encapsulation = h.encapsulation;
    if (h.truncatedAt !== undefined) extra.truncated_at = h.truncatedAt;
    if (h.inner) extra.inner = innerDoc(h.inner);
    return 1;
  }

  /**
   * Notes a group's record in the extras' order; a repeated switch, router or gateway
   * record replaces the value where the first one put it (as a plain object's key).
   */
  private group(extra: SflowFlowExtra, g: number): void {
    const bit = 1 << g;
    if ((this.seen & bit) !== 0) return;
    this.seen |= bit;
    extra.came(g);
  }

  /** An address (type, bytes) at p into this.nextHop: where it ends, or BAIL. */
  private address(b: Uint8Array, p: number, end: number): number {
    if (end - p < 4) return BAIL;
    const type = u32(b, p);
    p += 4;
    if (type === 0) {
      this.nextHop = undefined;
      return p;
    }
    if (type === 1) {
      if (end - p < 4) return BAIL;
      this.nextHop = ipv4ToString(b, p);
      return p + 4;
    }
    if (type === 2) {
      if (end - p < 16) return BAIL;
      this.nextHop = ipv6ToString(b, p);
      return p + 16;
    }
    return BAIL;
  }

  /** The extended gateway record in b[p, end); false when it must take the general path. */
  private gateway(
    b: Uint8Array,
    p: number,
    end: number,
    r: SflowRecord,
    extra: SflowFlowExtra,
  ): boolean {
    p = this.address(b, p, end);
    if (p === BAIL || end - p < 16) return false;
    const nextHop = this.nextHop;
    const as = u32(b, p);
    const srcAs = u32(b, p + 4);
    const srcPeerAs = u32(b, p + 8);
    const segments = u32(b, p + 12);
    p += 16;
    if (segments * 8 > end - p) return false;
    const asPath: SflowAsPathDoc[] = [];
    let last: number | undefined;
    for (let i = 0; i < segments; i++) {
      if (end - p < 8) return false;
      const k = u32(b, p + 4);
      p += 8;
      if (k * 4 > end - p) return false;
      const asns: number[] = [];
      for (let j = 0; j < k; j++) asns.push(u32(b, p + 4 * j));
      p += 4 * k;
      asPath.push({ asns });
      last = k > 0 ? asns[k - 1] : undefined;
    }
    if (end - p < 4) return false;
    const nc = u32(b, p);
    p += 4;
    if (nc * 4 > end - p) return false;
    const communities: number[] = [];
    for (let i = 0; i < nc; i++) communities.push(u32(b, p + 4 * i));
    p += 4 * nc;
    if (end - p < 4) return false;
    const localPref = u32(b, p);
    this.group(extra, EXTRA_GATEWAY);
    r.srcAs = srcAs;
    r.dstAs = last ?? as;
    extra.gateway = new SflowGatewayDoc(
      nextHop,
      as,
      srcAs,
      srcPeerAs,
      asPath,
      communities,
      localPref,
    );
    return true;
  }
}
