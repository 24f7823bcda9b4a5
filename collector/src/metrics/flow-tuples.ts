import type { FlowRecord } from '../flow/record.js';

/**
 * The attribute tuple of a flow record for the aggregate flow metrics (exporter, input and
 * output interface, transport, direction, IP version, application class), as numbers; a
 * map from tuples to whatever a caller keeps per tuple; and the table of totals a decode
 * worker sums per tuple and hands to the main thread. Shared by the decode workers and
 * FlowMetrics, so both cut records into the same tuples.
 *
 * Why numbers in nested maps: this runs for every record. A string key built per record
 * (exporter|in|out|...) cost about 1.5 µs a record in the decode worker; four lookups with
 * small integer keys cost a tenth of that and allocate nothing on a hit.
 */

/** Protocols whose flows have ports, hence an application class. */
const PORTED = new Set([6, 17, 33, 132, 136]);
/** Protocol code for 'none sent' (valid protocol numbers are 0..255). */
export const NO_PROTOCOL = 256;
/** Interface code for 'none sent'. */
export const NO_INTERFACE = -1;
/** Application code for 'other'; codes 0..1023 are the well-known port itself. */
export const OTHER_APP = 1024;

export function directionCode(d: FlowRecord['direction']): number {
  return d === 'ingress' ? 0 : d === 'egress' ? 1 : 2;
}

export function protocolCode(r: FlowRecord): number {
  const p = r.protocol;
  return p !== undefined && p >= 0 && p < NO_PROTOCOL ? p | 0 : NO_PROTOCOL;
}

/** 1 for IPv4, 2 for IPv6, 0 when unknown. */
export function ipCode(r: FlowRecord): number {
  return r.ipVersion === 4 ? 1 : r.ipVersion === 6 ? 2 : 0;
}

/** The lower of the flow's ports when it is below 1024 and the protocol has ports. */
export function appCode(r: FlowRecord, protocol: number): number {
  if (!PORTED.has(protocol)) return OTHER_APP;
  const s = r.srcPort;
  const d = r.dstPort;
  const low = s === undefined ? d : d === undefined ? s : Math.min(s, d);
  return low !== undefined && low >= 0 && low < 1024 ? low : OTHER_APP;
}

/** The series exporter: the sFlow agent when there is one, else the UDP source. */
export function exporterOf(r: FlowRecord): string {
  return r.exporter.agent ?? r.exporter.address;
}

/** Protocol, direction, IP version and application class in one integer. */
export function leafKey(protocol: number, direction: number, ip: number, app: number): number {
  return ((protocol * 3 + direction) * 3 + ip) * 1025 + app;
}

function recordLeaf(r: FlowRecord): number {
  const protocol = protocolCode(r);
  return leafKey(protocol, directionCode(r.direction), ipCode(r), appCode(r, protocol));
}

/** Values of type C by flow tuple. */
export class FlowTupleMap<C> {
  /** exporter -> input interface -> output interface -> leaf key. */
  private readonly tree = new Map<string, Map<number, Map<number, Map<number, C>>>>();

  /** The value of a tuple; never creates anything (a full table must not grow). */
  get(exporter: string, inIf: number, outIf: number, leaf: number): C | undefined {
    return this.tree.get(exporter)?.get(inIf)?.get(outIf)?.get(leaf);
  }

  set(exporter: string, inIf: number, outIf: number, leaf: number, value: C): void {
    let byIn = this.tree.get(exporter);
    if (byIn === undefined) {
      byIn = new Map();
      this.tree.set(exporter, byIn);
    }
    let byOut = byIn.get(inIf);
    if (byOut === undefined) {
      byOut = new Map();
      byIn.set(inIf, byOut);
    }
    let leaves = byOut.get(outIf);
    if (leaves === undefined) {
      leaves = new Map();
      byOut.set(outIf, leaves);
    }
    leaves.set(leaf, value);
  }

  /** The value of the tuple of record `r` (see exporterOf). */
  getRecord(r: FlowRecord): C | undefined {
    return this.get(
      exporterOf(r),
      r.inInterface ?? NO_INTERFACE,
      r.outInterface ?? NO_INTERFACE,
      recordLeaf(r),
    );
  }

  setRecord(r: FlowRecord, value: C): void {
    this.set(
      exporterOf(r),
      r.inInterface ?? NO_INTERFACE,
      r.outInterface ?? NO_INTERFACE,
      recordLeaf(r),
      value,
    );
  }
}

/** Columns of a FlowTotalsTable row. */
export const TOTALS = {
  exporter: 0,
  inIf: 1,
  outIf: 2,
  protocol: 3,
  direction: 4,
  ip: 5,
  app: 6,
  bytes: 7,
  packets: 8,
  records: 9,
} as const;
export const TOTALS_COLUMNS = 10;

/**
 * Flow totals summed per tuple by a decode worker, as rows of numbers: one transferred
 * Float64Array crosses to the main thread, not an object per tuple (with varied
 * interfaces and ports a batch of 1,000 records can hold 800 tuples). Columns: TOTALS;
 * `exporter` indexes `exporters`; interfaces NO_INTERFACE when not sent; protocol,
 * direction, IP and application as the codes above; bytes and packets scaled by the
 * sampling rate.
 */
export interface FlowTotalsTable {
  exporters: string[];
  rows: Float64Array;
}

/** A non-negative finite count, else 0: counters only go up, whatever an exporter sent. */
export function count(n: number | undefined): number {
  return n !== undefined && n >= 0 && n < Number.POSITIVE_INFINITY ? n : 0;
}

/** Sums flow records into a FlowTotalsTable. */
export class FlowTotalsBuilder {
  private readonly rowOf = new FlowTupleMap<number>();
  private readonly exporterIndex = new Map<string, number>();
  private readonly exporters: string[] = [];
  private rows = new Float64Array(64 * TOTALS_COLUMNS);
  private used = 0;

  /** Adds a flow record (options and counter records are not flows: the caller skips them). */
  add(r: FlowRecord): void {
    const rate = r.samplingRate !== undefined && r.samplingRate >= 1 ? r.samplingRate : 1;
    let at = this.rowOf.getRecord(r);
    if (at === undefined) at = this.newRow(r);
    const rows = this.rows;
    rows[at + TOTALS.bytes] =
      (rows[at + TOTALS.bytes] as number) + (count(r.bytes) + count(r.reverseBytes)) * rate;
    rows[at + TOTALS.packets] =
      (rows[at + TOTALS.packets] as number) + (count(r.packets) + count(r.reversePackets)) * rate;
    rows[at + TOTALS.records] = (rows[at + TOTALS.records] as number) + 1;
  }

  private newRow(r: FlowRecord): number {
    if (this.used + TOTALS_COLUMNS > this.rows.length) {
      const grown = new Float64Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
    }
    const exporter = exporterOf(r);
    let e = this.exporterIndex.get(exporter);
    if (e === undefined) {
      e = this.exporters.length;
      this.exporters.push(exporter);
      this.exporterIndex.set(exporter, e);
    }
    const at = this.used;
    this.used += TOTALS_COLUMNS;
    const protocol = protocolCode(r);
    const rows = this.rows;
    rows[at + TOTALS.exporter] = e;
    rows[at + TOTALS.inIf] = r.inInterface ?? NO_INTERFACE;
    rows[at + TOTALS.outIf] = r.outInterface ?? NO_INTERFACE;
    rows[at + TOTALS.protocol] = protocol;
    rows[at + TOTALS.direction] = directionCode(r.direction);
    rows[at + TOTALS.ip] = ipCode(r);
    rows[at + TOTALS.app] = appCode(r, protocol);
    this.rowOf.setRecord(r, at);
    return at;
  }

  /** The table so far (its rows a copy of exactly the rows used, ready to transfer). */
  build(): FlowTotalsTable {
    return { exporters: this.exporters, rows: this.rows.slice(0, this.used) };
  }
}
