import { type LegacyPacket, readNetflowLegacyRecords } from '../protocol/netflow/legacy.js';
import type { ExportResult } from '../protocol/netflow/result.js';
import type { DataRecord, PacketContext } from '../protocol/templates/types.js';
import { LayoutCache } from './layout-cache.js';
import { fixedProducerOf } from './netflow-fixed.js';
import { actionOf, compileLifter, type Lifter, LiftState, liftLoop, num } from './netflow-lift.js';
import { NetflowRecord } from './netflow-record.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import type { SamplingDecision, SamplingRates } from './sampling.js';
import { fromUptime } from './uptime.js';

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

/** Records of a layout lifted by the loop before its lifter is generated. */
const COMPILE_AFTER = 64;

interface LiftPlan {
  readonly loop: Lifter;
  readonly actions: Uint8Array;
  compiled: Lifter | undefined;
  uses: number;
}

/** The action of each field of a record layout, and its lifters, worked out once per layout. */
const liftPlans = new LayoutCache<LiftPlan>((infos) => {
  const actions = Uint8Array.from(infos, actionOf);
  return { loop: liftLoop(actions), actions, compiled: undefined, uses: 0 };
});

function lifterOf(plan: LiftPlan): Lifter {
  if (plan.compiled !== undefined) return plan.compiled;
  if (++plan.uses === COMPILE_AFTER) plan.compiled = compileLifter(plan.actions);
  return plan.loop;
}

/**
 * Maps decoded NetFlow/IPFIX records to normalized flow records (the goflow2 "producer"
 * step): lifts well-known elements into typed fields, resolves timestamps per format,
 * and applies sampling learned from options data. Options records teach sampling rates
 * and are kept as records of their own.
 */
export class NetflowProducer {
  /** Scratch for what one record's fields say beyond its members (reset per record). */
  private readonly state = new LiftState();

  // The last sampling decision and what it was asked, kept for one packet only: the
  // rates do not change while its data records are produced (its options were learned
  // first), and a packet's records mostly ask the same question, which costs a map
  // lookup, a key string and a result object to answer.
  private decided: SamplingDecision | undefined = undefined;
  private decidedExporter = '';
  private decidedDomain = 0;
  private decidedSampler: number | undefined = undefined;
  private decidedCarried: number | undefined = undefined;
  private decidedSource: 'header' | 'record' = 'record';

  constructor(private readonly sampling: SamplingRates) {}

  private decide(
    exporter: string,
    domain: number,
    sampler: number | undefined,
    carried: number | undefined,
    source: 'header' | 'record',
  ): SamplingDecision {
    const last = this.decided;
    if (
      last !== undefined &&
      exporter === this.decidedExporter &&
      domain === this.decidedDomain &&
      sampler === this.decidedSampler &&
      carried === this.decidedCarried &&
      source === this.decidedSource
    ) {
      return last;
    }
    const d = this.sampling.decide(exporter, domain, sampler, carried, source);
    this.decided = d;
    this.decidedExporter = exporter;
    this.decidedDomain = domain;
    this.decidedSampler = sampler;
    this.decidedCarried = carried;
    this.decidedSource = source;
    return d;
  }

  produce(res: ExportResult, exporterPort?: number): FlowRecord[] {
    const out: FlowRecord[] = new Array(res.records.length);
    let exporter: ExporterInfo | undefined;
    let exporterCtx: PacketContext | undefined;
    this.decided = undefined;
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

  /**
   * The records of a NetFlow v1/v5/v7 datagram whose header is read: made straight from
   * the bytes by the layout's generated producer (netflow-fixed.ts), or read and lifted
   * as every other format's when there is none.
   */
  produceLegacy(buf: Uint8Array, p: LegacyPacket, exporterPort?: number): FlowRecord[] {
    const { res, layout, view } = p;
    const ctx = res.ctx;
    const fixed = layout !== undefined ? fixedProducerOf(layout) : undefined;
    if (fixed === undefined || layout === undefined || view === undefined || ctx === undefined) {
      readNetflowLegacyRecords(buf, p);
      return this.produce(res, exporterPort);
    }
    const out: FlowRecord[] = new Array(p.count);
    if (p.count === 0) return out;
    // What record() decides for each of them: none carries a rate or sampler id.
    const interval = res.sampling?.interval ?? 0;
    const decision = this.sampling.decide(
      ctx.exporter,
      ctx.domain,
      undefined,
      interval > 0 ? interval : undefined,
      'header',
    );
    const exporter = exporterOf(ctx, exporterPort);
    fixed(buf, view, layout.header, p.count, ctx, exporter, decision.rate, decision.source, out);
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
    const kind = rec.options ? 'options' : 'flow';
    const r = new NetflowRecord(kind, exporter, ctx.receivedMs, rec.layout, rec.values);
    const st = this.state;
    st.reset();
    lifterOf(liftPlans.getLayout(rec.layout))(r, st, rec.values, rec.layout.ipv4);
    const { startUp, endUp, startDeltaUs, endDeltaUs, sampler, carriedRate, icmpTypeCode } = st;
    const { totalBytes, totalPackets, durationMs } = st;
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
      const decision = this.decide(
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
