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

/** By protocol number, 1 when its flows have ports, hence an application class. */
const PORTED = new Uint8Array(257);
for (const p of [6, 17, 33, 132, 136]) PORTED[p] = 1;
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
  if (PORTED[protocol] !== 1) return OTHER_APP;
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

/** Interfaces (+1) below this fold into one pair key (see pairKey). */
const NARROW = 2 ** 15;

/**
 * Both interfaces in one number when both (+1, so that NO_INTERFACE is 0) are below
 * 2^15, as nearly all interface indexes are: the key is then below 2^30, a small integer
 * V8 keeps unboxed (a larger one is a heap number, allocated per lookup and hashed
 * slower). -1 when the pair does not fit (the wide path takes it).
 */
function pairKey(inIf: number, outIf: number): number {
  const a = inIf + 1;
  const b = outIf + 1;
  return a >= 0 && a < NARROW && b >= 0 && b < NARROW && (a | 0) === a && (b | 0) === b
    ? a * NARROW + b
    : -1;
}

/** One exporter's tuples: by interface pair, then by leaf key. */
class ExporterTuples<C> {
  readonly byPair = new Map<number, Map<number, C>>();
  /** Pairs pairKey cannot fold (large interface numbers): input, output, leaf. */
  wide: Map<number, Map<number, Map<number, C>>> | undefined;

  get(inIf: number, outIf: number, leaf: number): C | undefined {
    const key = pairKey(inIf, outIf);
    if (key >= 0) return this.byPair.get(key)?.get(leaf);
    return this.wide?.get(inIf)?.get(outIf)?.get(leaf);
  }

  set(inIf: number, outIf: number, leaf: number, value: C): void {
    const key = pairKey(inIf, outIf);
    if (key >= 0) {
      let leaves = this.byPair.get(key);
      if (leaves === undefined) {
        leaves = new Map();
        this.byPair.set(key, leaves);
      }
      leaves.set(leaf, value);
      return;
    }
    this.wide ??= new Map();
    let byOut = this.wide.get(inIf);
    if (byOut === undefined) {
      byOut = new Map();
      this.wide.set(inIf, byOut);
    }
    let leaves = byOut.get(outIf);
    if (leaves === undefined) {
      leaves = new Map();
      byOut.set(outIf, leaves);
    }
    leaves.set(leaf, value);
  }
}

/**
 * Values of type C by flow tuple. Why this shape: it is looked up for every record, and
 * records of one exporter come in runs: the last exporter's tuples are kept at hand, and
 * its two interfaces make one numeric key, so a lookup is a string compare and two small
 * map lookups (four nested maps cost the decode worker about 0.3 µs a record).
 */
export class FlowTupleMap<C> {
  private readonly byExporter = new Map<string, ExporterTuples<C>>();
  private lastName: string | undefined;
  private last: ExporterTuples<C> | undefined;

  private exporter(name: string): ExporterTuples<C> | undefined {
    if (name === this.lastName) return this.last;
    const t = this.byExporter.get(name);
    if (t !== undefined) {
      this.lastName = name;
      this.last = t;
    }
    return t;
  }

  /** The value of a tuple; never creates anything (a full table must not grow). */
  get(exporter: string, inIf: number, outIf: number, leaf: number): C | undefined {
    return this.exporter(exporter)?.get(inIf, outIf, leaf);
  }

  set(exporter: string, inIf: number, outIf: number, leaf: number, value: C): void {
    let t = this.exporter(exporter);
    if (t === undefined) {
      t = new ExporterTuples<C>();
      this.byExporter.set(exporter, t);
    }
    t.set(inIf, outIf, leaf, value);
  }
}

/**
 * The lasting numbers a decode worker's FlowTotalsBuilder gives flow tuples, looked up
 * for every flow record. Why not FlowTupleMap: its two Map lookups per record (the
 * interface pair, then the leaf) were about a tenth of a decode worker's CPU in
 * `sluice collect` (V8's ordered hash tables, a hash and a chain walk each). Here a tuple
 * is three small integers (the exporter's number, both interfaces folded into one, the
 * leaf key) in one open-addressing table of typed arrays: a multiply-xor hash and,
 * nearly always, one probe. Interface pairs that do not fold (an interface index of
 * 2^15 - 1 or more, or not an integer) go to a FlowTupleMap, as before (pairKey's rule).
 */
export class TupleIndex {
  private readonly exporterIds = new Map<string, number>();
  private lastExporter: string | undefined;
  private lastExporterId = -1;
  private mask: number;
  private exporters: Int32Array;
  private pairs: Int32Array;
  private leaves: Int32Array;
  /** The number of each slot's tuple, -1 for an empty slot. */
  private values: Int32Array;
  private size = 0;
  private wide: FlowTupleMap<number> | undefined;

  constructor(slots = 1024) {
    this.mask = slots - 1;
    this.exporters = new Int32Array(slots);
    this.pairs = new Int32Array(slots);
    this.leaves = new Int32Array(slots);
    this.values = new Int32Array(slots).fill(-1);
  }

  /** The number of a tuple, undefined when it has none. */
  get(exporter: string, inIf: number, outIf: number, leaf: number): number | undefined {
    const pair = pairKey(inIf, outIf);
    if (pair < 0) return this.wide?.get(exporter, inIf, outIf, leaf);
    let e: number;
    if (exporter === this.lastExporter) e = this.lastExporterId;
    else {
      const known = this.exporterIds.get(exporter);
      if (known === undefined) return undefined;
      e = known;
      this.lastExporter = exporter;
      this.lastExporterId = e;
    }
    const values = this.values;
    for (let i = slotOf(e, pair, leaf) & this.mask; ; i = (i + 1) & this.mask) {
      const v = values[i] as number;
      if (v < 0) return undefined;
      if (this.pairs[i] === pair && this.leaves[i] === leaf && this.exporters[i] === e) return v;
    }
  }

  /** Numbers a tuple that has no number yet (the caller looked it up first). */
  set(exporter: string, inIf: number, outIf: number, leaf: number, id: number): void {
    const pair = pairKey(inIf, outIf);
    if (pair < 0) {
      this.wide ??= new FlowTupleMap<number>();
      this.wide.set(exporter, inIf, outIf, leaf, id);
      return;
    }
    let e = this.exporterIds.get(exporter);
    if (e === undefined) {
      e = this.exporterIds.size;
      this.exporterIds.set(exporter, e);
    }
    // At most half full: probes stay short.
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    this.place(e, pair, leaf, id);
    this.size++;
  }

  private place(e: number, pair: number, leaf: number, id: number): void {
    const values = this.values;
    let i = slotOf(e, pair, leaf) & this.mask;
    while ((values[i] as number) >= 0) i = (i + 1) & this.mask;
    this.exporters[i] = e;
    this.pairs[i] = pair;
    this.leaves[i] = leaf;
    values[i] = id;
  }

  private grow(): void {
    const { exporters, pairs, leaves, values } = this;
    const slots = (this.mask + 1) * 2;
    this.mask = slots - 1;
    this.exporters = new Int32Array(slots);
    this.pairs = new Int32Array(slots);
    this.leaves = new Int32Array(slots);
    this.values = new Int32Array(slots).fill(-1);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v >= 0) this.place(exporters[i] as number, pairs[i] as number, leaves[i] as number, v);
    }
  }
}

/** A slot for a tuple: its three numbers mixed (multiply-xor; the mask takes the low bits). */
function slotOf(e: number, pair: number, leaf: number): number {
  let h = Math.imul(e, 0x9e3779b1) ^ Math.imul(pair, 0x85ebca77) ^ Math.imul(leaf, 0xc2b2ae3d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 13);
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
  tuple: 10,
} as const;
export const TOTALS_COLUMNS = 11;

/**
 * Flow totals summed per tuple by a decode worker, as rows of numbers: one transferred
 * Float64Array crosses to the main thread, not an object per tuple (with varied
 * interfaces and ports a batch of 1,000 records can hold 800 tuples). Columns: TOTALS;
 * `exporter` indexes `exporters`; interfaces NO_INTERFACE when not sent; protocol,
 * direction, IP and application as the codes above; bytes and packets scaled by the
 * sampling rate; `tuple` the builder's lasting number for the tuple (NO_TUPLE past
 * MAX_TUPLE_IDS), the same in every table of that builder.
 */
export interface FlowTotalsTable {
  /** Which builder numbered the tuples: a number drawn at random per builder. */
  space: number;
  exporters: string[];
  rows: Float64Array;
}

/** `tuple` of a row whose tuple has no lasting number. */
export const NO_TUPLE = -1;

/**
 * Tuples a builder numbers for its lifetime. Past this a row still carries its tuple in
 * full (the reader finds it by value, as for an unnumbered row), so nothing is lost: the
 * bound only keeps a worker's memory in check when an exporter sends ever new interfaces.
 * It is far above the default series limit (2,000), beyond which tuples share the
 * overflow series anyway.
 */
export const MAX_TUPLE_IDS = 1 << 14;

/**
 * Sums flow records into one FlowTotalsTable per batch. A builder lives as long as its
 * decode worker and numbers each tuple once: the main thread then finds a tuple's totals
 * by that number (an array index) instead of four map lookups per row, which cost it
 * about half a microsecond per record when tuples vary.
 */
export class FlowTotalsBuilder {
  readonly space = Math.floor(Math.random() * 2 ** 32);
  /** Lasting numbers of the tuples seen. */
  private readonly ids = new TupleIndex();
  private nextId = 0;
  /** By tuple number, its row in this batch (an offset into rows), or -1. */
  private rowOfId = new Int32Array(256).fill(-1);
  /** Tuple numbers with a row in this batch, to clear rowOfId after it. */
  private readonly batchIds: number[] = [];
  /** Rows of unnumbered tuples (past MAX_TUPLE_IDS), this batch only. */
  private unnumbered: FlowTupleMap<number> | undefined;
  private exporterIndex = new Map<string, number>();
  private exporters: string[] = [];
  private rows = new Float64Array(64 * TOTALS_COLUMNS);
  private used = 0;

  /** Adds a flow record (options and counter records are not flows: the caller skips them). */
  add(r: FlowRecord): void {
    const rate = r.samplingRate !== undefined && r.samplingRate >= 1 ? r.samplingRate : 1;
    const at = this.rowFor(r);
    const rows = this.rows;
    rows[at + TOTALS.bytes] =
      (rows[at + TOTALS.bytes] as number) + (count(r.bytes) + count(r.reverseBytes)) * rate;
    rows[at + TOTALS.packets] =
      (rows[at + TOTALS.packets] as number) + (count(r.packets) + count(r.reversePackets)) * rate;
    rows[at + TOTALS.records] = (rows[at + TOTALS.records] as number) + 1;
  }

  private rowFor(r: FlowRecord): number {
    const exporter = exporterOf(r);
    const inIf = r.inInterface ?? NO_INTERFACE;
    const outIf = r.outInterface ?? NO_INTERFACE;
    const leaf = recordLeaf(r);
    let id = this.ids.get(exporter, inIf, outIf, leaf);
    if (id === undefined && this.nextId < MAX_TUPLE_IDS) {
      id = this.nextId++;
      this.ids.set(exporter, inIf, outIf, leaf, id);
      if (id >= this.rowOfId.length) {
        const grown = new Int32Array(this.rowOfId.length * 2).fill(-1);
        grown.set(this.rowOfId);
        this.rowOfId = grown;
      }
    }
    if (id !== undefined) {
      let at = this.rowOfId[id] as number;
      if (at < 0) {
        at = this.newRow(r, id);
        this.rowOfId[id] = at;
        this.batchIds.push(id);
      }
      return at;
    }
    this.unnumbered ??= new FlowTupleMap<number>();
    let at = this.unnumbered.get(exporter, inIf, outIf, leaf);
    if (at === undefined) {
      at = this.newRow(r, NO_TUPLE);
      this.unnumbered.set(exporter, inIf, outIf, leaf, at);
    }
    return at;
  }

  private newRow(r: FlowRecord, tuple: number): number {
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
    rows[at + TOTALS.bytes] = 0;
    rows[at + TOTALS.packets] = 0;
    rows[at + TOTALS.records] = 0;
    rows[at + TOTALS.tuple] = tuple;
    return at;
  }

  /**
   * The table of the records added since the last call (its rows a copy of exactly the
   * rows used, ready to transfer), and a fresh start for the next batch.
   */
  build(): FlowTotalsTable {
    const table = {
      space: this.space,
      exporters: this.exporters,
      rows: this.rows.slice(0, this.used),
    };
    for (const id of this.batchIds) this.rowOfId[id] = -1;
    this.batchIds.length = 0;
    this.unnumbered = undefined;
    this.exporters = [];
    this.exporterIndex = new Map();
    this.used = 0;
    return table;
  }
}

/** A non-negative finite count, else 0: counters only go up, whatever an exporter sent. */
export function count(n: number | undefined): number {
  return n !== undefined && n >= 0 && n < Number.POSITIVE_INFINITY ? n : 0;
}
