import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import type { SequenceObservation } from '../protocol/sequence.js';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_DOCUMENT_OUTCOME,
  ATTR_ERROR_TYPE,
  ATTR_EXPORTER,
  ATTR_LISTENER_PORT,
  ATTR_NETWORK_TYPE,
  DATAGRAMS_ACCEPTED,
  DATAGRAMS_RECEIVED,
  DATAGRAMS_REJECTED,
  DB_CLIENT_OPERATION_DURATION,
  DECODE_ERRORS,
  DOCUMENTS,
  INDEXING_LAG_BYTES,
  INDEXING_LAG_SECONDS,
  JOURNAL_BYTES,
  OVERFLOW_ATTRIBUTES,
  SEQUENCE_DUPLICATES,
  SEQUENCE_GAPS,
  SEQUENCE_MISSING,
  SEQUENCE_RESETS,
  TEMPLATE_MISSES,
  UDP_DROPS,
} from './names.js';
import { PROC_NET_UDP, type ProcNetFiles, readUdpDrops } from './procnet.js';

/** Distinct exporters (or exporter + reason pairs) with series of their own. */
export const DEFAULT_EXPORTER_CARDINALITY_LIMIT = 1000;

/**
 * Bulk request latency buckets, in seconds: a healthy bulk of a few MB takes tens to
 * hundreds of ms; the top buckets catch a node under pressure and client timeouts.
 */
export const BULK_LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

export type DocumentOutcome = 'indexed' | 'duplicate' | 'failed' | 'dead_lettered';
const DOCUMENT_OUTCOMES: readonly DocumentOutcome[] = [
  'indexed',
  'duplicate',
  'failed',
  'dead_lettered',
];

export interface IndexingLag {
  /** Age of the oldest journaled datagram not yet indexed (0 when caught up). */
  readonly seconds: number;
  /** Journal bytes between the indexed checkpoint and the head. */
  readonly bytes: number;
}

export interface UdpDropsSource {
  /** Local ports of the collector's listening sockets, read at each collection. */
  readonly ports: () => Iterable<number>;
  readonly files?: ProcNetFiles;
}

/** Instruments keyed by exporter: the SDK's cardinality limit, matched by the caches. */
const EXPORTER_KEYED = [
  DATAGRAMS_RECEIVED,
  DATAGRAMS_ACCEPTED,
  DATAGRAMS_REJECTED,
  DECODE_ERRORS,
  TEMPLATE_MISSES,
  SEQUENCE_GAPS,
  SEQUENCE_MISSING,
  SEQUENCE_RESETS,
  SEQUENCE_DUPLICATES,
];

export function selfViews(exporterCardinalityLimit: number): ViewOptions[] {
  return EXPORTER_KEYED.map((instrumentName) => ({
    instrumentName,
    aggregationCardinalityLimit: exporterCardinalityLimit,
  }));
}

/**
 * Attribute objects per (exporter, reason), built once and bounded: past the bound every
 * new pair shares the overflow attribute set. The SDK's limit only bounds series per
 * collection interval; this keeps a spray of spoofed source addresses from growing the
 * cumulative series without end.
 */
class AttributeCache {
  private readonly byExporter = new Map<string, Map<string, Attributes>>();
  private size = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly build: (exporter: string, reason: string) => Attributes,
  ) {}

  get(exporter: string, reason = ''): Attributes {
    const inner = this.byExporter.get(exporter);
    const hit = inner?.get(reason);
    if (hit !== undefined) return hit;
    if (this.size >= this.maxEntries) return OVERFLOW_ATTRIBUTES;
    const attrs = Object.freeze(this.build(exporter, reason));
    if (inner === undefined) this.byExporter.set(exporter, new Map([[reason, attrs]]));
    else inner.set(reason, attrs);
    this.size += 1;
    return attrs;
  }
}

/**
 * The collector's own health, for the pipeline to call: counters are cheap (no allocation
 * once an exporter has been seen) and gauges read callbacks the owners register.
 */
export class SelfMetrics {
  private readonly received: Counter;
  private readonly accepted: Counter;
  private readonly rejected: Counter;
  private readonly decodeErrors: Counter;
  private readonly templateMisses: Counter;
  private readonly seqGaps: Counter;
  private readonly seqMissing: Counter;
  private readonly seqResets: Counter;
  private readonly seqDuplicates: Counter;
  private readonly docs: Counter;
  private readonly bulk: Histogram;
  private readonly byExporter: AttributeCache;
  private readonly byReason: AttributeCache;
  private readonly docAttrs: ReadonlyMap<DocumentOutcome, Attributes>;
  private readonly bulkAttrs: Attributes = Object.freeze({
    [ATTR_DB_SYSTEM_NAME]: 'elasticsearch',
    [ATTR_DB_OPERATION_NAME]: 'bulk',
  });
  private readonly bulkErrorAttrs: AttributeCache;

  constructor(
    private readonly meter: Meter,
    exporterCardinalityLimit = DEFAULT_EXPORTER_CARDINALITY_LIMIT,
  ) {
    const bound = exporterCardinalityLimit - 1;
    this.byExporter = new AttributeCache(bound, (e) => ({ [ATTR_EXPORTER]: e }));
    this.byReason = new AttributeCache(bound, (e, r) => ({
      [ATTR_EXPORTER]: e,
      [ATTR_ERROR_TYPE]: r,
    }));
    this.bulkErrorAttrs = new AttributeCache(64, (_e, r) => ({
      ...this.bulkAttrs,
      [ATTR_ERROR_TYPE]: r,
    }));
    this.docAttrs = new Map(
      DOCUMENT_OUTCOMES.map((o) => [o, Object.freeze({ [ATTR_DOCUMENT_OUTCOME]: o })]),
    );

    const counter = (name: string, unit: string, description: string) =>
      meter.createCounter(name, { unit, description });
    this.received = counter(DATAGRAMS_RECEIVED, '{datagram}', 'Export datagrams received.');
    this.accepted = counter(
      DATAGRAMS_ACCEPTED,
      '{datagram}',
      'Export datagrams accepted and journaled.',
    );
    this.rejected = counter(
      DATAGRAMS_REJECTED,
      '{datagram}',
      'Export datagrams rejected, by reason (error.type).',
    );
    this.decodeErrors = counter(
      DECODE_ERRORS,
      '{error}',
      'Datagrams or sets that could not be decoded, by reason (error.type).',
    );
    this.templateMisses = counter(
      TEMPLATE_MISSES,
      '{set}',
      'Data sets that arrived before the template describing them.',
    );
    this.seqGaps = counter(SEQUENCE_GAPS, '{gap}', 'Gaps in export sequence numbers.');
    this.seqMissing = counter(
      SEQUENCE_MISSING,
      '{sequence_number}',
      'Sequence numbers missing in gaps (flows, packets, records or datagrams, per format).',
    );
    this.seqResets = counter(
      SEQUENCE_RESETS,
      '{reset}',
      'Exporter restarts seen as large jumps in sequence numbers.',
    );
    this.seqDuplicates = counter(
      SEQUENCE_DUPLICATES,
      '{datagram}',
      'Late or repeated export datagrams.',
    );
    this.docs = counter(DOCUMENTS, '{document}', 'Documents written to Elasticsearch, by outcome.');
    this.bulk = meter.createHistogram(DB_CLIENT_OPERATION_DURATION, {
      unit: 's',
      description: 'Duration of Elasticsearch bulk requests.',
      advice: { explicitBucketBoundaries: [...BULK_LATENCY_BUCKETS] },
    });
  }

  /** One datagram from an exporter: counted as received, and as accepted or rejected. */
  datagram(exporter: string, outcome: 'accepted'): void;
  datagram(exporter: string, outcome: 'rejected', reason: string): void;
  datagram(exporter: string, outcome: 'accepted' | 'rejected', reason?: string): void {
    this.received.add(1, this.byExporter.get(exporter));
    if (outcome === 'accepted') this.accepted.add(1, this.byExporter.get(exporter));
    else this.rejected.add(1, this.byReason.get(exporter, reason ?? 'unknown'));
  }

  decodeError(exporter: string, reason: string, n = 1): void {
    if (n > 0) this.decodeErrors.add(n, this.byReason.get(exporter, reason));
  }

  /** Sequence counts summed elsewhere (a decode worker's tracker), as increments. */
  sequenceCounts(exporter: string, c: { gaps: number; missing: number; resets: number }): void {
    const a = this.byExporter.get(exporter);
    if (c.gaps > 0) this.seqGaps.add(c.gaps, a);
    if (c.missing > 0) this.seqMissing.add(c.missing, a);
    if (c.resets > 0) this.seqResets.add(c.resets, a);
  }

  templateMiss(exporter: string, sets = 1): void {
    this.templateMisses.add(sets, this.byExporter.get(exporter));
  }

  /** What the sequence tracker made of one datagram; 'ok', 'first', 'unknown' count nothing. */
  sequence(exporter: string, observation: SequenceObservation): void {
    switch (observation.event) {
      case 'gap': {
        const a = this.byExporter.get(exporter);
        this.seqGaps.add(1, a);
        this.seqMissing.add(observation.missing, a);
        return;
      }
      case 'reset':
        this.seqResets.add(1, this.byExporter.get(exporter));
        return;
      case 'duplicate':
        this.seqDuplicates.add(1, this.byExporter.get(exporter));
        return;
      default:
        return;
    }
  }

  /** One bulk request's duration; `errorType` when it failed (e.g. '429', 'timeout'). */
  bulkLatency(seconds: number, errorType?: string): void {
    const a = errorType === undefined ? this.bulkAttrs : this.bulkErrorAttrs.get('', errorType);
    this.bulk.record(seconds, a);
  }

  documents(outcome: DocumentOutcome, n = 1): void {
    const a = this.docAttrs.get(outcome);
    if (a !== undefined && n > 0) this.docs.add(n, a);
  }

  /** Journal size on disk, read at each collection. */
  onJournalBytes(read: () => number | undefined): void {
    const g = this.meter.createObservableGauge(JOURNAL_BYTES, {
      unit: 'By',
      description: 'Size of the raw datagram journal on disk.',
    });
    g.addCallback((r) => {
      const v = read();
      if (v !== undefined) r.observe(v);
    });
  }

  /** Indexing lag behind the journal head, read at each collection. */
  onIndexingLag(read: () => IndexingLag | undefined): void {
    const seconds = this.meter.createObservableGauge(INDEXING_LAG_SECONDS, {
      unit: 's',
      description: 'Age of the oldest journaled datagram not yet indexed.',
    });
    const bytes = this.meter.createObservableGauge(INDEXING_LAG_BYTES, {
      unit: 'By',
      description: 'Journal bytes between the indexed checkpoint and the head.',
    });
    this.meter.addBatchObservableCallback(
      (r) => {
        const lag = read();
        if (lag === undefined) return;
        r.observe(seconds, lag.seconds);
        r.observe(bytes, lag.bytes);
      },
      [seconds, bytes],
    );
  }

  /**
   * Kernel receive-buffer drops of the listening sockets, from /proc/net/udp and
   * /proc/net/udp6, read at each collection (a monotonic count kept by the kernel).
   */
  onUdpDrops(source: UdpDropsSource): void {
    const drops = this.meter.createObservableCounter(UDP_DROPS, {
      unit: '{datagram}',
      description: 'Datagrams the kernel dropped on the listening sockets (receive buffer full).',
    });
    const files = source.files ?? PROC_NET_UDP;
    drops.addCallback(async (r) => {
      for (const d of await readUdpDrops(new Set(source.ports()), files)) {
        r.observe(d.drops, { [ATTR_LISTENER_PORT]: d.port, [ATTR_NETWORK_TYPE]: d.family });
      }
    });
  }
}
