import type {
  Attributes,
  BatchObservableResult,
  Meter,
  ObservableCounter,
} from '@opentelemetry/api';
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import type { FlowRecord } from '../flow/record.js';
import { transportName } from '../flow/transport.js';
import {
  appCode,
  count,
  directionCode,
  exporterOf,
  type FlowTotalsTable,
  FlowTupleMap,
  ipCode,
  leafKey,
  MAX_TUPLE_IDS,
  NO_INTERFACE,
  NO_PROTOCOL,
  OTHER_APP,
  protocolCode,
  TOTALS,
  TOTALS_COLUMNS,
} from './flow-tuples.js';
import {
  ATTR_APPLICATION,
  ATTR_DIRECTION,
  ATTR_EXPORTER,
  ATTR_INPUT_INTERFACE,
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_TYPE,
  ATTR_OUTPUT_INTERFACE,
  FLOW_BYTES,
  FLOW_PACKETS,
  FLOW_RECORDS,
  OVERFLOW_ATTRIBUTES,
} from './names.js';

/** Series per flow metric, the overflow series included (the SDK's default). */
export const DEFAULT_FLOW_CARDINALITY_LIMIT = 2000;

/**
 * Views for the flow counters: the SDK's cardinality limit, matched by the admission
 * bound of {@link FlowMetrics}, so the two agree on where the overflow series starts.
 */
export function flowViews(cardinalityLimit: number): ViewOptions[] {
  return [FLOW_BYTES, FLOW_PACKETS, FLOW_RECORDS].map((instrumentName) => ({
    instrumentName,
    aggregationCardinalityLimit: cardinalityLimit,
  }));
}

/** Running totals of one attribute tuple. */
interface Cell {
  bytes: number;
  packets: number;
  records: number;
  readonly attributes: Attributes;
}

const DIRECTIONS = ['ingress', 'egress', 'unknown'] as const;
const IP_TYPES = [undefined, 'ipv4', 'ipv6'] as const;

/**
 * Aggregate flow metrics: bytes, packets (both scaled by the sampling rate: estimates of
 * the real traffic) and flow records (as received: a packet-sampling rate says nothing
 * about how many flows went unseen), per exporter, input and output interface, transport,
 * direction, IP version and application class. No endpoint address and no port above
 * 1023 ever becomes an attribute, so cardinality stays bounded by the network's shape,
 * not by its traffic.
 *
 * Why the totals live here and reach the SDK through observable counters: a synchronous
 * `Counter.add` hashes its attribute object on every call (sorted entries, JSON), which
 * measured about 7 µs per record for three counters, several times the cost of decoding
 * the record. Here a record costs four Map lookups and three additions; the SDK sees each
 * tuple once per collection.
 *
 * Why the admission bound: the SDK's cardinality limit applies per collection interval,
 * so with cumulative temporality (Prometheus) new tuples keep adding series after every
 * scrape. Here the first `limit - 1` distinct tuples get their own series for the life of
 * the process and every later one is added to the overflow series
 * (`otel.metric.overflow=true`, the SDK's own overflow attribute set), so the series count
 * stays at the limit and the totals stay exact.
 */
export class FlowMetrics {
  private readonly byTuple = new FlowTupleMap<Cell>();
  /** By builder (FlowTotalsTable.space), its tuple numbers' cells, found once by value. */
  private readonly byNumber = new Map<number, (Cell | undefined)[]>();
  private readonly cells: Cell[] = [];
  private readonly overflow: Cell = {
    bytes: 0,
    packets: 0,
    records: 0,
    attributes: OVERFLOW_ATTRIBUTES,
  };
  private readonly maxTuples: number;
  private readonly bytes: ObservableCounter;
  private readonly packets: ObservableCounter;
  private readonly records: ObservableCounter;

  constructor(meter: Meter, cardinalityLimit = DEFAULT_FLOW_CARDINALITY_LIMIT) {
    if (!Number.isInteger(cardinalityLimit) || cardinalityLimit < 2) {
      throw new RangeError(
        `flow cardinality limit must be an integer >= 2, got ${cardinalityLimit}`,
      );
    }
    this.maxTuples = cardinalityLimit - 1;
    this.bytes = meter.createObservableCounter(FLOW_BYTES, {
      description: 'Bytes in flow records, multiplied by the sampling rate.',
      unit: 'By',
    });
    this.packets = meter.createObservableCounter(FLOW_PACKETS, {
      description: 'Packets in flow records, multiplied by the sampling rate.',
      unit: '{packet}',
    });
    this.records = meter.createObservableCounter(FLOW_RECORDS, {
      description: 'Flow records received (not scaled by sampling).',
      unit: '{flow}',
    });
    meter.addBatchObservableCallback(
      (result) => this.observe(result),
      [this.bytes, this.packets, this.records],
    );
  }

  /** Distinct attribute tuples with a series of their own. */
  get tuples(): number {
    return this.cells.length;
  }

  /** Counts one normalized record. Options and counter records are not flows; ignored. */
  record(r: FlowRecord): void {
    if (r.kind !== 'flow') return;
    const protocol = protocolCode(r);
    const cell = this.cellFor(
      exporterOf(r),
      r.inInterface ?? NO_INTERFACE,
      r.outInterface ?? NO_INTERFACE,
      protocol,
      directionCode(r.direction),
      ipCode(r),
      appCode(r, protocol),
    );
    const rate = r.samplingRate !== undefined && r.samplingRate >= 1 ? r.samplingRate : 1;
    cell.bytes += (count(r.bytes) + count(r.reverseBytes)) * rate;
    cell.packets += (count(r.packets) + count(r.reversePackets)) * rate;
    cell.records += 1;
  }

  /**
   * Adds totals summed elsewhere (a decode worker sums its records per tuple; the records
   * themselves never cross threads). Bytes and packets are already scaled.
   */
  addTable(t: FlowTotalsTable): void {
    let numbered = this.byNumber.get(t.space);
    if (numbered === undefined) {
      numbered = [];
      this.byNumber.set(t.space, numbered);
    }
    const rows = t.rows;
    for (let at = 0; at + TOTALS_COLUMNS <= rows.length; at += TOTALS_COLUMNS) {
      const tuple = rows[at + TOTALS.tuple] as number;
      let cell = tuple >= 0 ? numbered[tuple] : undefined;
      if (cell === undefined) {
        const exporter = t.exporters[rows[at + TOTALS.exporter] as number];
        if (exporter === undefined) continue;
        cell = this.cellFor(
          exporter,
          rows[at + TOTALS.inIf] as number,
          rows[at + TOTALS.outIf] as number,
          rows[at + TOTALS.protocol] as number,
          rows[at + TOTALS.direction] as number,
          rows[at + TOTALS.ip] as number,
          rows[at + TOTALS.app] as number,
        );
        // The overflow cell too: a tuple refused once is refused for good (the table of
        // series only grows until full).
        if (tuple >= 0 && tuple < MAX_TUPLE_IDS) numbered[tuple] = cell;
      }
      cell.bytes += count(rows[at + TOTALS.bytes]);
      cell.packets += count(rows[at + TOTALS.packets]);
      cell.records += count(rows[at + TOTALS.records]);
    }
  }

  private observe(result: BatchObservableResult): void {
    for (const c of this.cells) this.observeCell(result, c);
    if (this.overflow.records > 0) this.observeCell(result, this.overflow);
  }

  private observeCell(result: BatchObservableResult, c: Cell): void {
    result.observe(this.bytes, c.bytes, c.attributes);
    result.observe(this.packets, c.packets, c.attributes);
    result.observe(this.records, c.records, c.attributes);
  }

  private cellFor(
    exporter: string,
    inIf: number,
    outIf: number,
    protocol: number,
    direction: number,
    ip: number,
    app: number,
  ): Cell {
    const leaf = leafKey(protocol, direction, ip, app);
    const found = this.byTuple.get(exporter, inIf, outIf, leaf);
    if (found !== undefined) return found;
    // A full table sends every new tuple to the overflow series and grows no more.
    if (this.cells.length >= this.maxTuples) return this.overflow;
    const cell: Cell = {
      bytes: 0,
      packets: 0,
      records: 0,
      attributes: tupleAttributes(exporter, inIf, outIf, protocol, direction, ip, app),
    };
    this.cells.push(cell);
    this.byTuple.set(exporter, inIf, outIf, leaf, cell);
    return cell;
  }
}

/** Built once per distinct tuple; unknown facts are left out rather than invented. */
function tupleAttributes(
  exporter: string,
  inIf: number,
  outIf: number,
  protocol: number,
  direction: number,
  ip: number,
  app: number,
): Attributes {
  const a: Attributes = { [ATTR_EXPORTER]: exporter };
  if (inIf !== NO_INTERFACE) a[ATTR_INPUT_INTERFACE] = inIf;
  if (outIf !== NO_INTERFACE) a[ATTR_OUTPUT_INTERFACE] = outIf;
  const transport = protocol === NO_PROTOCOL ? undefined : transportName(protocol);
  if (transport !== undefined) a[ATTR_NETWORK_TRANSPORT] = transport;
  a[ATTR_DIRECTION] = DIRECTIONS[direction] ?? 'unknown';
  const ipType = IP_TYPES[ip];
  if (ipType !== undefined) a[ATTR_NETWORK_TYPE] = ipType;
  a[ATTR_APPLICATION] =
    app === OTHER_APP || transport === undefined ? 'other' : `${transport}/${app}`;
  return Object.freeze(a);
}
