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

/** Protocols whose flows have ports, hence an application class. */
const PORTED = new Set([6, 17, 33, 132, 136]);
const NO_PROTOCOL = 256;
const NO_INTERFACE = -1;
/** Application code for 'other'; codes 0..1023 are the well-known port itself. */
const OTHER_APP = 1024;
const DIRECTIONS = ['ingress', 'egress', 'unknown'] as const;
const IP_TYPES = [undefined, 'ipv4', 'ipv6'] as const;

function directionCode(d: FlowRecord['direction']): number {
  return d === 'ingress' ? 0 : d === 'egress' ? 1 : 2;
}

function appCode(r: FlowRecord, protocol: number): number {
  if (!PORTED.has(protocol)) return OTHER_APP;
  const s = r.srcPort;
  const d = r.dstPort;
  const low = s === undefined ? d : d === undefined ? s : Math.min(s, d);
  return low !== undefined && low >= 0 && low < 1024 ? low : OTHER_APP;
}

/**
 * Flow counts summed per attribute tuple by a decode worker. `port` is the flow's
 * well-known port (the lower of its ports when below 1024), else undefined.
 */
export interface FlowTotals {
  exporter: string;
  agent: string | undefined;
  inInterface: number | undefined;
  outInterface: number | undefined;
  protocol: number | undefined;
  ipVersion: 4 | 6 | undefined;
  direction: 'ingress' | 'egress' | 'unknown' | undefined;
  port: number | undefined;
  /** Scaled by the sampling rate. */
  bytes: number;
  packets: number;
  records: number;
}

/** A non-negative finite count, else 0: counters only go up, whatever an exporter sent. */
function count(n: number | undefined): number {
  return n !== undefined && n >= 0 && n < Number.POSITIVE_INFINITY ? n : 0;
}

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
  /** exporter -> input interface -> output interface -> (protocol, direction, ip, app). */
  private readonly tree = new Map<string, Map<number, Map<number, Map<number, Cell>>>>();
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
    const cell = this.cellFor(r);
    const rate = r.samplingRate !== undefined && r.samplingRate >= 1 ? r.samplingRate : 1;
    cell.bytes += (count(r.bytes) + count(r.reverseBytes)) * rate;
    cell.packets += (count(r.packets) + count(r.reversePackets)) * rate;
    cell.records += 1;
  }

  /**
   * Adds totals summed elsewhere (a decode worker sums its records per attribute tuple;
   * the records themselves never cross threads). `bytes`/`packets` are already scaled.
   */
  addTotals(t: FlowTotals): void {
    const r: FlowRecord = {
      kind: 'flow',
      exporter: {
        address: t.exporter,
        port: undefined,
        protocol: 'netflow',
        version: 10,
        domain: 0,
        sequence: 0,
        uptimeMs: undefined,
        exportTimeMs: undefined,
        ...(t.agent !== undefined ? { agent: t.agent } : {}),
      },
      receivedMs: 0,
      fields: [],
      inInterface: t.inInterface,
      outInterface: t.outInterface,
      protocol: t.protocol,
      ipVersion: t.ipVersion,
      direction: t.direction,
      srcPort: t.port,
    };
    const cell = this.cellFor(r);
    cell.bytes += count(t.bytes);
    cell.packets += count(t.packets);
    cell.records += count(t.records);
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

  private cellFor(r: FlowRecord): Cell {
    const exporter = r.exporter.agent ?? r.exporter.address;
    const inIf = r.inInterface ?? NO_INTERFACE;
    const outIf = r.outInterface ?? NO_INTERFACE;
    const p = r.protocol;
    const protocol = p !== undefined && p >= 0 && p < NO_PROTOCOL ? p | 0 : NO_PROTOCOL;
    const ip = r.ipVersion === 4 ? 1 : r.ipVersion === 6 ? 2 : 0;
    const app = appCode(r, protocol);
    const key = ((protocol * 3 + directionCode(r.direction)) * 3 + ip) * 1025 + app;

    // Look up without creating anything: a full cache must not grow on overflow.
    const byIn = this.tree.get(exporter);
    const byOut = byIn?.get(inIf);
    const leaf = byOut?.get(outIf);
    const found = leaf?.get(key);
    if (found !== undefined) return found;
    if (this.cells.length >= this.maxTuples) return this.overflow;

    const cell: Cell = {
      bytes: 0,
      packets: 0,
      records: 0,
      attributes: tupleAttributes(exporter, r, protocol, ip, app),
    };
    this.cells.push(cell);
    let a = byIn;
    if (a === undefined) {
      a = new Map();
      this.tree.set(exporter, a);
    }
    let b = byOut;
    if (b === undefined) {
      b = new Map();
      a.set(inIf, b);
    }
    let c = leaf;
    if (c === undefined) {
      c = new Map();
      b.set(outIf, c);
    }
    c.set(key, cell);
    return cell;
  }
}

/** Built once per distinct tuple; unknown facts are left out rather than invented. */
function tupleAttributes(
  exporter: string,
  r: FlowRecord,
  protocol: number,
  ip: number,
  app: number,
): Attributes {
  const a: Attributes = { [ATTR_EXPORTER]: exporter };
  if (r.inInterface !== undefined) a[ATTR_INPUT_INTERFACE] = r.inInterface;
  if (r.outInterface !== undefined) a[ATTR_OUTPUT_INTERFACE] = r.outInterface;
  const transport = protocol === NO_PROTOCOL ? undefined : transportName(protocol);
  if (transport !== undefined) a[ATTR_NETWORK_TRANSPORT] = transport;
  a[ATTR_DIRECTION] = DIRECTIONS[directionCode(r.direction)];
  const ipType = IP_TYPES[ip];
  if (ipType !== undefined) a[ATTR_NETWORK_TYPE] = ipType;
  a[ATTR_APPLICATION] =
    app === OTHER_APP || transport === undefined ? 'other' : `${transport}/${app}`;
  return Object.freeze(a);
}
