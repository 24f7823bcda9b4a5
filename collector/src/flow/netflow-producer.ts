import { type LegacyPacket, readNetflowLegacyRecords } from '../protocol/netflow/legacy.js';
import { type ExportResult, unreadSince } from '../protocol/netflow/result.js';
import type { FixedDataSet } from '../protocol/templates/dataset.js';
import type { DataRecord, PacketContext } from '../protocol/templates/types.js';
import { LayoutCache } from './layout-cache.js';
import { fixedProducerOf } from './netflow-fixed.js';
import {
  actionOf,
  compileLifter,
  finishLift,
  type Lifter,
  LiftState,
  liftLoop,
  num,
} from './netflow-lift.js';
import { NetflowRecord } from './netflow-record.js';
import { setProducerOf } from './netflow-sets.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import type { SamplingDecision, SamplingRates } from './sampling.js';

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

const NO_SETS: readonly FixedDataSet[] = [];

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
  /**
   * Scratch for what one record's fields say beyond its members (reset per record);
   * read by the generated set producers too (netflow-sets.ts).
   */
  readonly state = new LiftState();

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
  /** The packet whose exporter `exporter` is (exporterFor). */
  private exporterCtx: PacketContext | undefined = undefined;
  private exporter: ExporterInfo | undefined = undefined;
  /**
   * Records the generated set producers made, kept to be made again by the next
   * produce() (see `recycle`), and how many of them the current one has used; read and
   * written by the generated code (netflow-sets.ts).
   */
  readonly pool: NetflowRecord[] | undefined;
  pooled = 0;

  /**
   * @param compileSetsAfter records of a layout made by the general path before its
   *   data sets are read by generated code (netflow-sets.ts); tests set 0.
   * @param recycle the records of one produce() are made again (the same objects, every
   *   member reset) by the next one, for a caller done with them by then (the decode
   *   worker writes each datagram's documents before it decodes the next). Why: a new
   *   record and values array per flow, dead a datagram later, were the largest
   *   allocation of the indexing path, and writing fresh memory cost more than
   *   resetting members in place (bench/README.md). At most MAX_POOLED are kept.
   */
  constructor(
    private readonly sampling: SamplingRates,
    private readonly compileSetsAfter?: number,
    recycle = false,
  ) {
    this.pool = recycle ? [] : undefined;
  }

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
    const records = res.records;
    const sets = res.sets ?? NO_SETS;
    const out: FlowRecord[] = new Array(records.length + unreadSince(res, 0));
    this.pooled = 0;
    this.decided = undefined;
    this.exporterCtx = undefined;
    // Options first: a packet may carry the sampling rate its own data records use.
    for (const rec of records) if (rec.options) this.learnOptions(rec);
    // Records and unread sets in wire order: a set goes before the record at its `at`.
    let k = 0;
    let j = 0;
    for (let i = 0; i <= records.length; i++) {
      while (j < sets.length && (i === records.length || (sets[j] as FixedDataSet).at === i)) {
        k = this.produceSet(sets[j++] as FixedDataSet, res, exporterPort, out, k);
      }
      const rec = records[i];
      if (rec !== undefined)
        out[k++] = this.record(rec, this.exporterFor(rec.ctx, exporterPort), res);
    }
    return out;
  }

  /** The exporter of records of `ctx`: one object for all records of one packet. */
  private exporterFor(ctx: PacketContext, port: number | undefined): ExporterInfo {
    if (ctx !== this.exporterCtx) {
      this.exporterCtx = ctx;
      this.exporter = exporterOf(ctx, port);
    }
    return this.exporter as ExporterInfo;
  }

  /**
   * The records of a data set the decoder left unread into `out` from `k` on: read
   * straight into flow records by the layout's generated producer (netflow-sets.ts), or
   * read as DataRecords and lifted as any other until it has one. Returns the next `k`.
   */
  private produceSet(
    set: FixedDataSet,
    res: ExportResult,
    port: number | undefined,
    out: FlowRecord[],
    k: number,
  ): number {
    const exporter = this.exporterFor(set.ctx, port);
    const produceFn = setProducerOf(set, this.compileSetsAfter);
    if (produceFn !== undefined) {
      return produceFn(set.body, set.view, set.count, set.ctx, exporter, set.layout, this, out, k);
    }
    const recs: DataRecord[] = [];
    set.read(set.body, set.view, set.ctx, recs, set.template, set.layout);
    for (const rec of recs) out[k++] = this.record(rec, exporter, res);
    return k;
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
    this.pooled = 0;
    fixed(
      buf,
      view,
      layout.header,
      p.count,
      ctx,
      exporter,
      decision.rate,
      decision.source,
      out,
      this,
    );
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
    finishLift(r, st, ctx);
    if (kind === 'flow') {
      const interval = res.sampling?.interval;
      this.sample(r, ctx, interval !== undefined && interval > 0 ? interval : undefined);
    }
    return r;
  }

  /**
   * A flow record's sampling: the rate its fields carried (lift state), else the
   * header's `headerRate` (v5), else what the exporter's options said or the
   * configuration.
   */
  private sample(r: NetflowRecord, ctx: PacketContext, headerRate: number | undefined): void {
    const { sampler, carriedRate } = this.state;
    const decision = this.decideFlow(ctx, sampler, carriedRate, headerRate);
    if (decision.rate !== undefined) r.samplingRate = decision.rate;
    if (decision.source !== undefined) r.samplingSource = decision.source;
  }

  /** The sampling of a flow record whose fields carried `sampler` and `carriedRate`. */
  decideFlow(
    ctx: PacketContext,
    sampler: number | undefined,
    carriedRate: number | undefined,
    headerRate: number | undefined,
  ): SamplingDecision {
    return this.decide(
      ctx.exporter,
      ctx.domain,
      sampler,
      carriedRate ?? headerRate,
      carriedRate !== undefined ? 'record' : 'header',
    );
  }
}
