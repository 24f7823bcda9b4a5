import { detectFormat, type ExportFormat } from '../protocol/detect.js';
import type { DecodeReason } from '../protocol/errors.js';
import { decodeIpfix, ipfixTemplateFromSnapshot } from '../protocol/ipfix/ipfix.js';
import { readNetflowLegacyHeader } from '../protocol/netflow/legacy.js';
import type { DecodeInput, ExportResult } from '../protocol/netflow/result.js';
import { decodeNetflowV9, v9TemplateFromSnapshot } from '../protocol/netflow/v9.js';
import { SequenceTracker } from '../protocol/sequence.js';
import { decodeSflow } from '../protocol/sflow/decode.js';
import {
  type TemplateLimits,
  type TemplateSnapshot,
  TemplateStore,
} from '../protocol/templates/store.js';
import { NetflowProducer } from './netflow-producer.js';
import type { FlowRecord } from './record.js';
import { type SamplingConfig, SamplingRates } from './sampling.js';
import { SflowFastLane } from './sflow-fast.js';
import { SflowProducer } from './sflow-producer.js';

/** An sFlow sequence stream's parts and its key (FlowDecoder.sflowStreamKey). */
interface SflowStream {
  readonly exporter: string;
  readonly agent: string;
  readonly subAgent: number;
  readonly key: string;
}

const SFLOW_STREAMS = 8;

export interface Datagram {
  readonly bytes: Uint8Array;
  /** Exporter (UDP source) address as text. */
  readonly exporter: string;
  readonly exporterPort?: number;
  /** Arrival time, ms since the Unix epoch. */
  readonly receivedMs: number;
}

/** Per-exporter counters, for `sluice decode --stats` and the collector's metrics. */
export interface ExporterStats {
  datagrams: number;
  records: number;
  byFormat: Partial<Record<ExportFormat, number>>;
  errors: Partial<Record<DecodeReason, number>>;
  sequenceGaps: number;
  sequenceMissing: number;
  sequenceResets: number;
  /** First message seen per error reason (logged once per cause and exporter). */
  firstError: Partial<Record<DecodeReason, string>>;
}

export interface DecodeOutcome {
  records: FlowRecord[];
  format: ExportFormat | undefined;
  issues: { reason: DecodeReason; message: string }[];
}

export interface FlowDecoderOptions {
  templateLimits?: Partial<TemplateLimits>;
  sampling?: SamplingConfig;
  /** Exporters tracked in statistics; beyond this their datagrams still decode. */
  maxExporterStats?: number;
  /**
   * The flow records a decode() returns may be the objects of earlier calls, reset and
   * made again, so that they are valid only until the next decode(): for a caller done
   * with each datagram's records before it decodes the next (the decode worker), which
   * saves allocating a record and its values array per flow (NetflowProducer's
   * `recycle`). Off by default: records then live as long as anyone holds them.
   */
  recycleRecords?: boolean;
}

/**
 * Datagram in, normalized records out, for every format: detects the format, runs its
 * decoder against the shared template state, maps the result to flow records, and
 * keeps per-exporter counts of records, errors by reason and sequence gaps.
 * Never throws on bad input.
 */
export class FlowDecoder {
  readonly templates: TemplateStore;
  readonly sequences = new SequenceTracker();
  private readonly producer: NetflowProducer;
  private readonly sflow: SflowProducer;
  private readonly sflowFast: SflowFastLane;
  private readonly stats = new Map<string, ExporterStats>();
  private readonly maxExporterStats: number;
  /**
   * The last sequence stream's parts and its key (streamKey, sflowStreamKey); the
   * initial key is the one those parts make.
   */
  private readonly lastStream = { exporter: '', version: -1, domain: -1, key: '/-1/-1' };
  private readonly sflowStreams: SflowStream[] = [];
  private sflowStreamNext = 0;

  constructor(opts: FlowDecoderOptions = {}) {
    this.templates = new TemplateStore(opts.templateLimits);
    const rates = new SamplingRates(opts.sampling);
    this.producer = new NetflowProducer(rates, undefined, opts.recycleRecords === true);
    this.sflow = new SflowProducer(rates);
    this.sflowFast = new SflowFastLane(rates);
    this.maxExporterStats = opts.maxExporterStats ?? 10_000;
  }

  private statsFor(exporter: string): ExporterStats | undefined {
    let s = this.stats.get(exporter);
    if (!s && this.stats.size < this.maxExporterStats) {
      s = {
        datagrams: 0,
        records: 0,
        byFormat: {},
        errors: {},
        sequenceGaps: 0,
        sequenceMissing: 0,
        sequenceResets: 0,
        firstError: {},
      };
      this.stats.set(exporter, s);
    }
    return s;
  }

  decode(d: Datagram): DecodeOutcome {
    const stats = this.statsFor(d.exporter);
    if (stats) stats.datagrams += 1;
    const format = detectFormat(d.bytes);
    const out: DecodeOutcome = { records: [], format, issues: [] };
    if (format === undefined) {
      this.issue(
        stats,
        out,
        'unknown_version',
        `no flow export format recognised (${d.bytes.length} bytes)`,
      );
      return out;
    }
    if (stats) stats.byFormat[format] = (stats.byFormat[format] ?? 0) + 1;
    if (format === 'sflow') return this.decodeSflow(d, stats, out);
    const input: DecodeInput = {
      exporter: d.exporter,
      receivedMs: d.receivedMs,
      store: this.templates,
      // The producer reads fixed-length data sets itself (netflow-sets.ts).
      deferFixedSets: true,
    };
    if (format !== 'netflow-v9' && format !== 'ipfix')
      return this.decodeLegacy(d, input, stats, out);
    const res =
      format === 'netflow-v9' ? decodeNetflowV9(d.bytes, input) : decodeIpfix(d.bytes, input);
    this.account(d.exporter, res, stats, out);
    return this.done(out, this.producer.produce(res, d.exporterPort), stats);
  }

  /**
   * NetFlow v1/v5/v7: the header read here, the records made straight into flow records
   * (netflow-fixed.ts). A method of its own, which keeps `decode` as small as it was for
   * V8's inlining of the v9/IPFIX path.
   */
  private decodeLegacy(
    d: Datagram,
    input: DecodeInput,
    stats: ExporterStats | undefined,
    out: DecodeOutcome,
  ): DecodeOutcome {
    const packet = readNetflowLegacyHeader(d.bytes, input);
    this.account(d.exporter, packet.res, stats, out);
    return this.done(out, this.producer.produceLegacy(d.bytes, packet, d.exporterPort), stats);
  }

  /** The outcome with its records, counted against the exporter. */
  private done(
    out: DecodeOutcome,
    records: FlowRecord[],
    stats: ExporterStats | undefined,
  ): DecodeOutcome {
    out.records = records;
    if (stats) stats.records += records.length;
    return out;
  }

  /** A NetFlow/IPFIX datagram's issues and sequence number, against its exporter. */
  private account(
    exporter: string,
    res: ExportResult,
    stats: ExporterStats | undefined,
    out: DecodeOutcome,
  ): void {
    for (const i of res.issues) this.issue(stats, out, i.reason, i.message);
    if (res.ctx && res.ctx.version !== 1) {
      this.trackSequence(
        stats,
        this.streamKey(exporter, res.ctx.version, res.ctx.domain),
        res.ctx.sequence,
        res.sequenceIncrement,
      );
    }
  }

  /**
   * `exporter/version/domain`, the sequence stream of a NetFlow/IPFIX datagram: the
   * previous datagram's key when it is the same stream (an exporter's datagrams come in
   * runs), instead of a new string per datagram.
   */
  private streamKey(exporter: string, version: number, domain: number): string {
    const k = this.lastStream;
    if (k.exporter !== exporter || k.version !== version || k.domain !== domain) {
      k.exporter = exporter;
      k.version = version;
      k.domain = domain;
      k.key = `${exporter}/${version}/${domain}`;
    }
    return k.key;
  }

  /**
   * `exporter/sflow/agent/sub-agent`, the sequence stream of an sFlow datagram: the key
   * of one of the last SFLOW_STREAMS streams when it is one of them (the datagrams of a
   * few agents interleave), instead of a new string per datagram.
   */
  private sflowStreamKey(exporter: string, agent: string, subAgent: number): string {
    const list = this.sflowStreams;
    for (let i = 0; i < list.length; i++) {
      const k = list[i] as SflowStream;
      if (k.exporter === exporter && k.agent === agent && k.subAgent === subAgent) return k.key;
    }
    const k: SflowStream = {
      exporter,
      agent,
      subAgent,
      key: `${exporter}/sflow/${agent}/${subAgent}`,
    };
    if (list.length < SFLOW_STREAMS) list.push(k);
    else {
      list[this.sflowStreamNext] = k;
      this.sflowStreamNext = (this.sflowStreamNext + 1) % SFLOW_STREAMS;
    }
    return k.key;
  }

  private trackSequence(
    stats: ExporterStats | undefined,
    stream: string,
    sequence: number,
    increment: number | undefined,
  ): void {
    const obs = this.sequences.observe(stream, sequence, increment);
    if (!stats) return;
    if (obs.event === 'gap') {
      stats.sequenceGaps += 1;
      stats.sequenceMissing += obs.missing;
    } else if (obs.event === 'reset') stats.sequenceResets += 1;
  }

  private decodeSflow(
    d: Datagram,
    stats: ExporterStats | undefined,
    out: DecodeOutcome,
  ): DecodeOutcome {
    // The usual datagram (sFlow v5 flow and counter samples, nothing malformed) takes
    // the fast lane: the same records, no issues to report (sflow-fast.ts); any other
    // datagram the general path.
    const fast = this.sflowFast;
    let records: FlowRecord[] | undefined;
    try {
      records = fast.produce(d.bytes, d.exporter, d.exporterPort, d.receivedMs);
    } catch {
      // Not expected (every read is checked first); the general path never throws.
      records = undefined;
    }
    if (records !== undefined) {
      this.trackSequence(
        stats,
        this.sflowStreamKey(d.exporter, fast.agent ?? '', fast.subAgentId),
        fast.sequenceNumber,
        1,
      );
      return this.done(out, records, stats);
    }
    const res = decodeSflow(d.bytes);
    for (const i of res.errors) this.issue(stats, out, i.reason, i.message);
    const dg = res.datagram;
    if (dg) {
      // sFlow sequence numbers count datagrams, per agent and sub-agent.
      this.trackSequence(
        stats,
        this.sflowStreamKey(d.exporter, dg.agentAddress ?? '', dg.subAgentId),
        dg.sequenceNumber,
        1,
      );
    }
    return this.done(out, this.sflow.produce(res, d.exporter, d.exporterPort, d.receivedMs), stats);
  }

  /**
   * Held data sets whose template never came within the TTL: counted as
   * template_missing against their exporter (their bytes remain in the raw journal).
   */
  expire(nowMs: number): number {
    return this.countMissing(this.templates.expire(nowMs));
  }

  /** At the end of a finite input (a capture file), every held set is reported. */
  drain(): number {
    return this.countMissing(this.templates.drainPending());
  }

  private countMissing(sets: ReturnType<TemplateStore['drainPending']>): number {
    for (const p of sets) {
      const stats = this.statsFor(p.ctx.exporter);
      const msg = `no template ${p.templateId} from ${p.ctx.exporter} domain ${p.ctx.domain} arrived for held data`;
      this.issue(stats, undefined, 'template_missing', msg);
    }
    return sets.length;
  }

  private issue(
    stats: ExporterStats | undefined,
    out: DecodeOutcome | undefined,
    reason: DecodeReason,
    message: string,
  ): void {
    out?.issues.push({ reason, message });
    if (!stats) return;
    stats.errors[reason] = (stats.errors[reason] ?? 0) + 1;
    stats.firstError[reason] ??= message;
  }

  exporterStats(): ReadonlyMap<string, ExporterStats> {
    return this.stats;
  }

  snapshotTemplates(): TemplateSnapshot {
    return this.templates.snapshot();
  }

  restoreTemplates(snap: TemplateSnapshot): number {
    return this.templates.restore(snap, (version, id, fields, scopeCount, options) =>
      version === 9
        ? v9TemplateFromSnapshot(id, fields, scopeCount, options)
        : ipfixTemplateFromSnapshot(id, fields, scopeCount, options),
    );
  }
}
