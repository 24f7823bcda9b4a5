import type { ExportResult } from '../protocol/netflow/result.js';
import type { DataRecord, FieldValue, PacketContext } from '../protocol/templates/types.js';
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

/** Absolute time of a sysUptime-relative stamp (v1-v9): the export header anchors the clock. */
function fromUptime(ctx: PacketContext, uptimeStamp: number): number | undefined {
  if (ctx.sysUptimeMs === undefined) return undefined;
  // Signed 32-bit difference: handles the uptime counter wrapping after ~49.7 days.
  let delta = (ctx.sysUptimeMs - uptimeStamp) % U32;
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
    const r: FlowRecord = {
      kind: rec.options ? 'options' : 'flow',
      exporter,
      receivedMs: ctx.receivedMs,
      fields: rec.fields,
    };
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
    for (const f of rec.fields) {
      if (f.info.enterprise === REVERSE_PEN) {
        // RFC 5103 biflows: the reverse direction's counters.
        if (f.info.id === 1) r.reverseBytes = num(f.value);
        else if (f.info.id === 2) r.reversePackets = num(f.value);
        continue;
      }
      if (f.info.enterprise !== 0 || f.info.field.startsWith('scope_')) continue;
      const v = f.value;
      switch (f.info.id) {
        case 1:
          r.bytes = num(v);
          break;
        case 2:
          r.packets = num(v);
          break;
        case 85:
          totalBytes = num(v);
          break;
        case 86:
          totalPackets = num(v);
          break;
        case 4:
          r.protocol = num(v);
          break;
        case 5:
          r.tos = num(v);
          break;
        case 6:
          r.tcpFlags = num(v);
          break;
        case 7:
          r.srcPort = num(v);
          break;
        case 11:
          r.dstPort = num(v);
          break;
        case 8:
          if (settable(r.srcAddr, v)) {
            r.srcAddr = str(v);
            r.ipVersion = 4;
          }
          break;
        case 12:
          if (settable(r.dstAddr, v)) {
            r.dstAddr = str(v);
            r.ipVersion = 4;
          }
          break;
        case 27:
          if (settable(r.srcAddr, v)) {
            r.srcAddr = str(v);
            r.ipVersion = 6;
          }
          break;
        case 28:
          if (settable(r.dstAddr, v)) {
            r.dstAddr = str(v);
            r.ipVersion = 6;
          }
          break;
        case 9:
        case 29:
          r.srcMask = num(v);
          break;
        case 13:
        case 30:
          r.dstMask = num(v);
          break;
        case 10:
          r.inInterface = num(v);
          break;
        case 14:
          r.outInterface = num(v);
          break;
        case 15:
        case 62:
          r.nextHop = str(v);
          break;
        case 16:
          r.srcAs = num(v);
          break;
        case 17:
          r.dstAs = num(v);
          break;
        case 56:
          r.srcMac = str(v);
          break;
        case 80:
          r.dstMac = str(v);
          break;
        case 58:
        case 243:
          r.vlan = num(v);
          break;
        case 245:
          r.innerVlan = num(v);
          break;
        case 61: {
          const d = num(v);
          r.direction = d === 0 ? 'ingress' : d === 1 ? 'egress' : 'unknown';
          break;
        }
        case 32:
        case 139:
          icmpTypeCode = num(v);
          break;
        case 176:
        case 178:
          r.icmpType = num(v);
          break;
        case 177:
        case 179:
          r.icmpCode = num(v);
          break;
        case 22:
          startUp = num(v);
          break;
        case 21:
          endUp = num(v);
          break;
        case 150:
        case 152:
        case 154:
        case 156:
          r.startMs = num(v);
          break;
        case 151:
        case 153:
        case 155:
        case 157:
          r.endMs = num(v);
          break;
        case 158:
          startDeltaUs = num(v);
          break;
        case 159:
          endDeltaUs = num(v);
          break;
        case 161:
          durationMs = num(v);
          break;
        case 162: {
          const us = num(v);
          if (us !== undefined) durationMs = us / 1000;
          break;
        }
        case 48:
        case 302:
          sampler = num(v);
          break;
        case 34:
        case 50:
        case 305:
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
