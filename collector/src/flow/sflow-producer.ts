import type { PacketHeaders } from '../protocol/packet/headers.js';
import type {
  SflowCounterSample,
  SflowDatagram,
  SflowFlowSample,
  SflowResult,
} from '../protocol/sflow/types.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import type { SamplingRates } from './sampling.js';
import {
  SflowGatewayDoc,
  SflowHeaderDoc,
  SflowPortDoc,
  SflowRouterDoc,
  SflowSampleDoc,
  SflowSwitchDoc,
} from './sflow-extra.js';

/** camelCase record keys to the snake_case document keys (ifInOctets -> if_in_octets). */
function snakeOf(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

// Record keys are the decoder's property names, a few dozen in all: each is converted
// once instead of running two regular expressions per key of every sample. Bounded in
// case a raw structure ever brings keys of its own.
const SNAKE = new Map<string, string>();

function snake(key: string): string {
  let s = SNAKE.get(key);
  if (s === undefined) {
    s = snakeOf(key);
    if (SNAKE.size < 4096) SNAKE.set(key, s);
  }
  return s;
}

/** A decoded structure as document values: snake_case keys, bytes as hex, no undefined. */
function docValue(v: unknown): unknown {
  if (v instanceof Uint8Array)
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v)) return v.map(docValue);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    const o = v as Record<string, unknown>;
    // Object.keys: the own enumerable keys of Object.entries, without an array per entry.
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (x === undefined || k === 'enterprise' || k === 'format' || k === 'type') continue;
      out[snake(k)] = docValue(x);
    }
    return out;
  }
  return v;
}

function exporterOf(dg: SflowDatagram, address: string, port: number | undefined): ExporterInfo {
  return sflowExporter(
    address,
    port,
    dg.version,
    dg.subAgentId,
    dg.sequenceNumber,
    dg.uptimeMs,
    dg.agentAddress,
  );
}

/**
 * The exporter of an sFlow datagram's records (the general path's and the fast lane's):
 * the `agent` member only when the datagram names one.
 */
export function sflowExporter(
  address: string,
  port: number | undefined,
  version: 2 | 4 | 5,
  subAgentId: number,
  sequence: number,
  uptimeMs: number,
  agent: string | undefined,
): ExporterInfo {
  // Two literals rather than a spread: one object per datagram either way.
  const protocol = 'sflow';
  const domain = subAgentId;
  const exportTimeMs = undefined;
  return agent !== undefined
    ? { address, port, protocol, version, domain, sequence, uptimeMs, exportTimeMs, agent }
    : { address, port, protocol, version, domain, sequence, uptimeMs, exportTimeMs };
}

/** Lifts the decoded packet header (outer headers; the tunnel's inner packet kept aside). */
function fromPacket(r: FlowRecord, p: PacketHeaders): void {
  r.srcMac = p.srcMac;
  r.dstMac = p.dstMac;
  if (p.vlanIds.length > 0) r.vlan = p.vlanIds[0];
  if (p.vlanIds.length > 1) r.innerVlan = p.vlanIds[1];
  if (p.ipVersion !== undefined) r.ipVersion = p.ipVersion;
  r.srcAddr = p.srcAddr;
  r.dstAddr = p.dstAddr;
  r.protocol = p.protocol;
  r.tos = p.tos;
  r.srcPort = p.srcPort;
  r.dstPort = p.dstPort;
  r.tcpFlags = p.tcpFlags;
  r.icmpType = p.icmpType;
  r.icmpCode = p.icmpCode;
}

function packetExtra(p: PacketHeaders): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.vlanIds.length > 0) out.vlan_ids = [...p.vlanIds];
  if (p.mplsLabels.length > 0) out.mpls_labels = [...p.mplsLabels];
  if (p.ttl !== undefined) out.ttl = p.ttl;
  if (p.ipv6FlowLabel !== undefined) out.ipv6_flow_label = p.ipv6FlowLabel;
  if (p.srv6Segments.length > 0) out.srv6_segments = [...p.srv6Segments];
  if (p.vxlanVni !== undefined) out.vxlan_vni = p.vxlanVni;
  if (p.encapsulation !== undefined) out.encapsulation = p.encapsulation;
  if (p.truncatedAt !== undefined) out.truncated_at = p.truncatedAt;
  if (p.inner) out.inner = innerDoc(p.inner);
  return out;
}

/** `sflow.inner`: a tunnel's inner packet as the document shows it. */
export function innerDoc(i: PacketHeaders): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({
      src_mac: i.srcMac,
      dst_mac: i.dstMac,
      ip_version: i.ipVersion,
      src_ip: i.srcAddr,
      dst_ip: i.dstAddr,
      protocol: i.protocol,
      src_port: i.srcPort,
      dst_port: i.dstPort,
      tcp_flags: i.tcpFlags,
      icmp_type: i.icmpType,
      icmp_code: i.icmpCode,
      vlan_ids: i.vlanIds.length > 0 ? [...i.vlanIds] : undefined,
    }).filter(([, v]) => v !== undefined),
  );
}

/**
 * Maps decoded sFlow datagrams to flow records: each flow sample becomes one record of
 * one sampled packet (packets 1, bytes = frame length) with the sample's rate; each
 * counter sample becomes a `counters` record. Outer packet headers fill the ECS fields;
 * the rest (tunnel inner packet, MPLS labels, AS path...) goes under `sflow.*`.
 */
export class SflowProducer {
  constructor(private readonly sampling: SamplingRates) {}

  produce(
    res: SflowResult,
    address: string,
    port: number | undefined,
    receivedMs: number,
  ): FlowRecord[] {
    const dg = res.datagram;
    if (!dg) return [];
    const exporter = exporterOf(dg, address, port);
    const out: FlowRecord[] = [];
    for (const s of dg.samples) {
      if (s.kind === 'flow') out.push(this.flow(s, exporter, receivedMs));
      else if (s.kind === 'counters') out.push(this.counters(s, exporter, receivedMs));
    }
    return out;
  }

  private flow(s: SflowFlowSample, exporter: ExporterInfo, receivedMs: number): FlowRecord {
    const r: FlowRecord = { kind: 'flow', exporter, receivedMs, fields: [], packets: 1 };
    if (s.inputFormat === 'single' && s.inputValue !== 0) r.inInterface = s.inputValue;
    if (s.outputFormat === 'single' && s.outputValue !== 0) r.outInterface = s.outputValue;
    const extra: Record<string, unknown> = {
      sample: new SflowSampleDoc(
        s.sequenceNumber,
        s.sourceIdType,
        s.sourceIdIndex,
        s.samplingRate,
        s.samplePool,
        s.drops,
        new SflowPortDoc(s.inputFormat, s.inputValue),
        new SflowPortDoc(s.outputFormat, s.outputValue),
        s.expanded,
      ),
    };
    let haveHeader = false;
    for (const rec of s.records) {
      switch (rec.type) {
        case 'raw_header':
          r.bytes = rec.frameLength;
          extra.header = new SflowHeaderDoc(
            rec.headerProtocol,
            rec.frameLength,
            rec.stripped,
            rec.header.length,
          );
          if (rec.packet) {
            fromPacket(r, rec.packet);
            Object.assign(extra, packetExtra(rec.packet));
            haveHeader = true;
          }
          break;
        case 'ipv4':
        case 'ipv6':
          if (!haveHeader) {
            r.bytes ??= rec.length;
            r.ipVersion = rec.type === 'ipv4' ? 4 : 6;
            r.srcAddr = rec.srcAddr;
            r.dstAddr = rec.dstAddr;
            r.protocol = rec.protocol;
            r.srcPort = rec.srcPort;
            r.dstPort = rec.dstPort;
            r.tcpFlags = rec.tcpFlags;
            r.tos = rec.type === 'ipv4' ? rec.tos : rec.priority;
          }
          break;
        case 'ethernet_frame':
          r.bytes ??= rec.length;
          r.srcMac ??= rec.srcMac;
          r.dstMac ??= rec.dstMac;
          break;
        case 'extended_switch':
          // VLAN 0 means untagged.
          if (rec.srcVlan > 0) r.vlan ??= rec.srcVlan;
          // docValue(rec)'s members, known: the record has no others (nor undefined ones).
          extra.switch = new SflowSwitchDoc(
            rec.srcVlan,
            rec.srcPriority,
            rec.dstVlan,
            rec.dstPriority,
          );
          break;
        case 'extended_router':
          r.nextHop = rec.nextHop;
          r.srcMask = rec.srcMaskLen;
          r.dstMask = rec.dstMaskLen;
          // docValue(rec)'s members, known (next_hop undefined when the type is 0).
          extra.router = new SflowRouterDoc(rec.nextHop, rec.srcMaskLen, rec.dstMaskLen);
          break;
        case 'extended_gateway': {
          r.srcAs = rec.srcAs;
          const last = rec.asPath.at(-1)?.asns.at(-1);
          r.dstAs = last ?? rec.as;
          // docValue(rec)'s members, known; a segment's type is left out as docValue does.
          extra.gateway = new SflowGatewayDoc(
            rec.nextHop,
            rec.as,
            rec.srcAs,
            rec.srcPeerAs,
            rec.asPath.map((s) => ({ asns: [...s.asns] })),
            [...rec.communities],
            rec.localPref,
          );
          break;
        }
        default: {
          // Records kept raw (unknown formats): listed with their enterprise and format.
          const list = (extra.records as unknown[] | undefined) ?? [];
          list.push({
            enterprise: rec.enterprise,
            format: rec.format,
            ...(docValue(rec) as object),
          });
          extra.records = list;
          break;
        }
      }
    }
    const d = this.sampling.decide(
      exporter.address,
      exporter.domain,
      undefined,
      s.samplingRate,
      'sample',
    );
    if (d.rate !== undefined) r.samplingRate = d.rate;
    if (d.source !== undefined) r.samplingSource = d.source;
    r.extra = extra;
    return r;
  }

  /** The `counters` record of a counter sample. */
  counters(s: SflowCounterSample, exporter: ExporterInfo, receivedMs: number): FlowRecord {
    const counters: Record<string, unknown> = {};
    for (const rec of s.records) {
      const key =
        rec.type === 'raw' ? `enterprise_${rec.enterprise}_format_${rec.format}` : rec.type;
      counters[key] = docValue(rec);
    }
    const generic = s.records.find((x) => x.type === 'generic_interface');
    const r: FlowRecord = {
      kind: 'counters',
      exporter,
      receivedMs,
      fields: [],
      extra: {
        sample: {
          sequence: s.sequenceNumber,
          source_id_type: s.sourceIdType,
          source_id_index: s.sourceIdIndex,
          expanded: s.expanded,
        },
        counters,
      },
    };
    if (generic && generic.type === 'generic_interface') r.inInterface = generic.ifIndex;
    return r;
  }
}
