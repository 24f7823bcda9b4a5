import type { ElementInfo } from '../protocol/ipfix/registry/index.js';
import type { ExportResult } from '../protocol/netflow/result.js';
import { ipv4Text } from '../protocol/templates/ipv4-field.js';
import type { DataRecord, FieldValue, PacketContext } from '../protocol/templates/types.js';
import { LayoutCache } from './layout-cache.js';
import { NetflowRecord } from './netflow-record.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import type { SamplingRates } from './sampling.js';

const U32 = 0x100000000;
/** RFC 5103 reverse information elements use this private enterprise number. */
const REVERSE_PEN = 29305;

function num(v: FieldValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function str(v: FieldValue): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Some templates carry both IPv4 and IPv6 address fields and fill only one family;
 * the unspecified address (0.0.0.0, ::) never replaces a real one.
 */
function settable(current: string | undefined, v: FieldValue): boolean {
  if (current === undefined || current === '0.0.0.0' || current === '::') return true;
  return v !== '0.0.0.0' && v !== '::';
}

/**
 * `settable` for an address given as a number: the current address (a number, or text
 * when it came from a field without one) is replaced unless only the new one is the
 * unspecified address.
 */
function settableIpv4(current: number | undefined, currentText: string | undefined, n: number) {
  if (current !== undefined) return current === 0 || n !== 0;
  return settable(currentText, n === 0 ? '0.0.0.0' : '');
}

/** An IPv4 source, destination or next hop from its number (FlowField.ipv4). */
function liftIpv4(r: NetflowRecord, action: number, n: number): void {
  if (action === A.src4) {
    // The text is read only when there is no number (then it is all there is).
    if (settableIpv4(r.srcIpv4, r.srcIpv4 === undefined ? r.srcTextOnly() : undefined, n)) {
      r.setSrcIpv4(n);
      r.ipVersion = 4;
    }
  } else if (action === A.dst4) {
    if (settableIpv4(r.dstIpv4, r.dstIpv4 === undefined ? r.dstTextOnly() : undefined, n)) {
      r.setDstIpv4(n);
      r.ipVersion = 4;
    }
  } else {
    r.setNextHopIpv4(n);
  }
}

/** Absolute time of a sysUptime-relative stamp (v1-v9): the export header anchors the clock. */
function fromUptime(ctx: PacketContext, uptimeStamp: number): number | undefined {
  if (ctx.sysUptimeMs === undefined) return undefined;
  // Signed 32-bit difference: handles the uptime counter wrapping after ~49.7 days.
  // For two 32-bit stamps the difference is already within (-2^32, 2^32), where `%`
  // changes nothing; it is skipped there because on doubles V8 calls fmod for it.
  let delta = ctx.sysUptimeMs - uptimeStamp;
  if (!(delta > -U32 && delta < U32)) delta %= U32;
  if (delta >= U32 / 2) delta -= U32;
  else if (delta < -U32 / 2) delta += U32;
  return ctx.exportTimeMs - delta;
}

function exporterOf(ctx: PacketContext, port: number | undefined): ExporterInfo {
  return {
    address: ctx.exporter,
    port,
    protocol: 'netflow',
    version: ctx.version,
    domain: ctx.domain,
    sequence: ctx.sequence,
    uptimeMs: ctx.sysUptimeMs,
    exportTimeMs: ctx.exportTimeMs,
  };
}

/**
 * What `record` does with an element. Resolving an element to its action once per
 * template layout (instead of testing enterprise, the `scope_` prefix and a sparse id
 * switch for every field of every record) is most of the producer's speed.
 */
const A = {
  skip: 0,
  reverseBytes: 1,
  reversePackets: 2,
  bytes: 3,
  packets: 4,
  totalBytes: 5,
  totalPackets: 6,
  protocol: 7,
  tos: 8,
  tcpFlags: 9,
  srcPort: 10,
  dstPort: 11,
  src4: 12,
  dst4: 13,
  src6: 14,
  dst6: 15,
  srcMask: 16,
  dstMask: 17,
  inInterface: 18,
  outInterface: 19,
  nextHop: 20,
  srcAs: 21,
  dstAs: 22,
  srcMac: 23,
  dstMac: 24,
  vlan: 25,
  innerVlan: 26,
  direction: 27,
  icmpTypeCode: 28,
  icmpType: 29,
  icmpCode: 30,
  startUp: 31,
  endUp: 32,
  startMs: 33,
  endMs: 34,
  startDeltaUs: 35,
  endDeltaUs: 36,
  durationMs: 37,
  durationUs: 38,
  sampler: 39,
  rate: 40,
} as const;

/** IANA element id -> action (enterprise 0, not an options scope field). */
const IANA_ACTIONS = new Map<number, number>([
  [1, A.bytes],
  [2, A.packets],
  [85, A.totalBytes],
  [86, A.totalPackets],
  [4, A.protocol],
  [5, A.tos],
  [6, A.tcpFlags],
  [7, A.srcPort],
  [11, A.dstPort],
  [8, A.src4],
  [12, A.dst4],
  [27, A.src6],
  [28, A.dst6],
  [9, A.srcMask],
  [29, A.srcMask],
  [13, A.dstMask],
  [30, A.dstMask],
  [10, A.inInterface],
  [14, A.outInterface],
  [15, A.nextHop],
  [62, A.nextHop],
  [16, A.srcAs],
  [17, A.dstAs],
  [56, A.srcMac],
  [80, A.dstMac],
  [58, A.vlan],
  [243, A.vlan],
  [245, A.innerVlan],
  [61, A.direction],
  [32, A.icmpTypeCode],
  [139, A.icmpTypeCode],
  [176, A.icmpType],
  [178, A.icmpType],
  [177, A.icmpCode],
  [179, A.icmpCode],
  [22, A.startUp],
  [21, A.endUp],
  [150, A.startMs],
  [152, A.startMs],
  [154, A.startMs],
  [156, A.startMs],
  [151, A.endMs],
  [153, A.endMs],
  [155, A.endMs],
  [157, A.endMs],
  [158, A.startDeltaUs],
  [159, A.endDeltaUs],
  [161, A.durationMs],
  [162, A.durationUs],
  [48, A.sampler],
  [302, A.sampler],
  [34, A.rate],
  [50, A.rate],
  [305, A.rate],
]);

function actionOf(info: ElementInfo): number {
  if (info.enterprise === REVERSE_PEN) {
    // RFC 5103 biflows: the reverse direction's counters.
    return info.id === 1 ? A.reverseBytes : info.id === 2 ? A.reversePackets : A.skip;
  }
  if (info.enterprise !== 0 || info.field.startsWith('scope_')) return A.skip;
  return IANA_ACTIONS.get(info.id) ?? A.skip;
}

/** The action of each field of a record layout, worked out once per layout. */
const actionPlans = new LayoutCache((infos) => Uint8Array.from(infos, actionOf));

/**
 * Maps decoded NetFlow/IPFIX records to normalized flow records (the goflow2 "producer"
 * step): lifts well-known elements into typed fields, resolves timestamps per format,
 * and applies sampling learned from options data. Options records teach sampling rates
 * and are kept as records of their own.
 */
export class NetflowProducer {
  constructor(private readonly sampling: SamplingRates) {}

  produce(res: ExportResult, exporterPort?: number): FlowRecord[] {
    const out: FlowRecord[] = new Array(res.records.length);
    let exporter: ExporterInfo | undefined;
    let exporterCtx: PacketContext | undefined;
    // Options first: a packet may carry the sampling rate its own data records use.
    for (const rec of res.records) if (rec.options) this.learnOptions(rec);
    for (let i = 0; i < res.records.length; i++) {
      const rec = res.records[i] as DataRecord;
      if (rec.ctx !== exporterCtx) {
        exporterCtx = rec.ctx;
        exporter = exporterOf(rec.ctx, exporterPort);
      }
      out[i] = this.record(rec, exporter as ExporterInfo, res);
    }
    return out;
  }

  private learnOptions(rec: DataRecord): void {
    let sampler: number | undefined;
    let rate: number | undefined;
    for (const f of rec.fields) {
      if (f.info.enterprise !== 0 || f.info.field.startsWith('scope_')) continue;
      switch (f.info.id) {
        case 48: // flowSamplerId (v9 samplerId)
        case 302: // selectorId
          sampler = num(f.value);
          break;
        case 34: // samplingInterval
        case 50: // samplerRandomInterval
        case 305: // samplingPacketInterval
          rate = num(f.value);
          break;
        default:
          break;
      }
    }
    if (rate !== undefined) this.sampling.learn(rec.ctx.exporter, rec.ctx.domain, sampler, rate);
  }

  private record(rec: DataRecord, exporter: ExporterInfo, res: ExportResult): FlowRecord {
    const ctx = rec.ctx;
    const values = rec.values;
    const ipv4 = rec.layout.ipv4;
    const r = new NetflowRecord(rec.options ? 'options' : 'flow', exporter, ctx.receivedMs, rec);
    let startUp: number | undefined;
    let endUp: number | undefined;
    let durationMs: number | undefined;
    let startDeltaUs: number | undefined;
    let endDeltaUs: number | undefined;
    let sampler: number | undefined;
    let carriedRate: number | undefined;
    let totalBytes: number | undefined;
    let totalPackets: number | undefined;
    let icmpTypeCode: number | undefined;
    const actions = actionPlans.getLayout(rec.layout);
    for (let i = 0; i < values.length; i++) {
      const action = actions[i];
      if (action === A.skip) continue;
      let v = values[i] as FieldValue;
      if (ipv4[i] === 1) {
        // An address the decoder kept as a number stays one (netflow-record.ts): its
        // text is made only if someone reads it. Other actions take the text, as the
        // field's value reads.
        if (action === A.src4 || action === A.dst4 || action === A.nextHop) {
          liftIpv4(r, action, v as number);
          continue;
        }
        v = ipv4Text(v as number);
      }
      switch (action) {
        case A.reverseBytes:
          r.reverseBytes = num(v);
          break;
        case A.reversePackets:
          r.reversePackets = num(v);
          break;
        case A.bytes:
          r.bytes = num(v);
          break;
        case A.packets:
          r.packets = num(v);
          break;
        case A.totalBytes:
          totalBytes = num(v);
          break;
        case A.totalPackets:
          totalPackets = num(v);
          break;
        case A.protocol:
          r.protocol = num(v);
          break;
        case A.tos:
          r.tos = num(v);
          break;
        case A.tcpFlags:
          r.tcpFlags = num(v);
          break;
        case A.srcPort:
          r.srcPort = num(v);
          break;
        case A.dstPort:
          r.dstPort = num(v);
          break;
        case A.src4:
          if (settable(r.srcAddr, v)) {
            r.srcAddr = str(v);
            r.ipVersion = 4;
          }
          break;
        case A.dst4:
          if (settable(r.dstAddr, v)) {
            r.dstAddr = str(v);
            r.ipVersion = 4;
          }
          break;
        case A.src6:
          if (settable(r.srcAddr, v)) {
            r.srcAddr = str(v);
            r.ipVersion = 6;
          }
          break;
        case A.dst6:
          if (settable(r.dstAddr, v)) {
            r.dstAddr = str(v);
            r.ipVersion = 6;
          }
          break;
        case A.srcMask:
          r.srcMask = num(v);
          break;
        case A.dstMask:
          r.dstMask = num(v);
          break;
        case A.inInterface:
          r.inInterface = num(v);
          break;
        case A.outInterface:
          r.outInterface = num(v);
          break;
        case A.nextHop:
          r.nextHop = str(v);
          break;
        case A.srcAs:
          r.srcAs = num(v);
          break;
        case A.dstAs:
          r.dstAs = num(v);
          break;
        case A.srcMac:
          r.srcMac = str(v);
          break;
        case A.dstMac:
          r.dstMac = str(v);
          break;
        case A.vlan:
          r.vlan = num(v);
          break;
        case A.innerVlan:
          r.innerVlan = num(v);
          break;
        case A.direction: {
          const d = num(v);
          r.direction = d === 0 ? 'ingress' : d === 1 ? 'egress' : 'unknown';
          break;
        }
        case A.icmpTypeCode:
          icmpTypeCode = num(v);
          break;
        case A.icmpType:
          r.icmpType = num(v);
          break;
        case A.icmpCode:
          r.icmpCode = num(v);
          break;
        case A.startUp:
          startUp = num(v);
          break;
        case A.endUp:
          endUp = num(v);
          break;
        case A.startMs:
          r.startMs = num(v);
          break;
        case A.endMs:
          r.endMs = num(v);
          break;
        case A.startDeltaUs:
          startDeltaUs = num(v);
          break;
        case A.endDeltaUs:
          endDeltaUs = num(v);
          break;
        case A.durationMs:
          durationMs = num(v);
          break;
        case A.durationUs: {
          const us = num(v);
          if (us !== undefined) durationMs = us / 1000;
          break;
        }
        case A.sampler:
          sampler = num(v);
          break;
        case A.rate:
          carriedRate = num(v);
          break;
        default:
          break;
      }
    }
    r.bytes ??= totalBytes;
    r.packets ??= totalPackets;
    if (r.startMs === undefined && startUp !== undefined) r.startMs = fromUptime(ctx, startUp);
    if (r.endMs === undefined && endUp !== undefined) r.endMs = fromUptime(ctx, endUp);
    if (r.startMs === undefined && startDeltaUs !== undefined) {
      r.startMs = ctx.exportTimeMs - startDeltaUs / 1000;
    }
    if (r.endMs === undefined && endDeltaUs !== undefined)
      r.endMs = ctx.exportTimeMs - endDeltaUs / 1000;
    if (durationMs !== undefined) {
      if (r.startMs !== undefined && r.endMs === undefined) r.endMs = r.startMs + durationMs;
      else if (r.endMs !== undefined && r.startMs === undefined) r.startMs = r.endMs - durationMs;
    }
    const icmp = r.protocol === 1 || r.protocol === 58;
    if (icmp && r.icmpType === undefined) {
      // Explicit type/code elements first; v1/v5/v7 (and many v9 exporters) put
      // type*256+code in the destination port.
      const tc = icmpTypeCode ?? r.dstPort;
      if (tc !== undefined) {
        r.icmpType = tc >>> 8;
        r.icmpCode = tc & 0xff;
      }
    }
    if (r.kind === 'flow') {
      const fromHeader = res.sampling !== undefined && res.sampling.interval > 0;
      const decision = this.sampling.decide(
        ctx.exporter,
        ctx.domain,
        sampler,
        carriedRate ?? (fromHeader ? res.sampling?.interval : undefined),
        carriedRate !== undefined ? 'record' : 'header',
      );
      if (decision.rate !== undefined) r.samplingRate = decision.rate;
      if (decision.source !== undefined) r.samplingSource = decision.source;
    }
    return r;
  }
}
