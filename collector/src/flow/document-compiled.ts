// The document of a NetFlow/IPFIX flow record written by generated code in small
// segments, each its own function: the head (`@timestamp`, `event`, `observer`), the
// endpoints (`source`, `destination`), the network (`network` to `sluice`), the
// `netflow.*` members and the tail (`netflow.exporter`, `type`). The record's shape
// (document-shape.ts) says which members the document has, so the general writer's
// tests of every member and its `first`/comma bookkeeping are done once, at generation:
// a segment is straight-line stores of constant text (merged across member boundaries,
// as inline float64 constants) between the values.
//
// Why segments (the branch perf-doc3 generated one ~40 kB function per layout and
// shape): V8's optimizing compile of such a function took 60-170 ms on a helper thread,
// and was redone each time a branch of its inline code was first taken after it, which
// in the collector cost more CPU and memory than the writer saved. Here the head,
// endpoints, network and tail depend only on a few bits of the shape each, not on the
// layout, so the layouts of all exporters share a handful of them; only the `netflow.*`
// members are per layout, in functions of at most MAX_CHUNK members. Each function is
// 1-4 kB of source (under 8 kB whatever the layout). Addresses, dates and the rarer
// numbers are written by ordinary functions shared by every segment (V8 inlines them
// where its budget allows): their branches get their type feedback from all records.
// What a segment branches on itself: an integer below 1e8 (its digits inline) or not,
// a `netflow.*` value that is a number or not, and a time that is no plausible date
// (the segment declines, and the general writer writes the record). Numbers that are
// seldom below 1e8 (durations, uptimes, sequence numbers) skip the inline digits, whose
// branch would otherwise be first taken late and cost a deoptimization then.
//
// document-writer.ts decides when segments are used (a common layout, an exporter whose
// texts are plain), looks them up by shape, and falls back to the general writer when
// code generation is disallowed. document-compiled.test.ts compares the two.

import { S, SAMPLING_SOURCE_SHIFT, SAMPLING_SOURCES } from './document-shape.js';
import { jsonString } from './fast-json.js';
import { type JsonOut, Text } from './json-out.js';
import type { ExporterInfo, FlowRecord } from './record.js';

/** The longest exporter or network text a segment takes (document-writer.ts checks). */
export const MAX_PARAM_TEXT = 512;

/**
 * The head, endpoints, network or tail: writes at p (o.pos is not kept) and returns the
 * position after it, or -1 when a time is no plausible date. `t` is the exporter's
 * observer text (head), the protocol's network head (network) or the exporter's head
 * (tail); `d` the direction member (network).
 */
export type Segment = (
  o: JsonOut,
  r: FlowRecord,
  ex: ExporterInfo,
  p: number,
  t: Text,
  d: Text,
) => number;

/** Some `netflow.*` members of a layout, at p: the position after them. */
export type MembersSegment = (
  o: JsonOut,
  values: readonly unknown[],
  ipv4s: Uint8Array,
  p: number,
) => number;

/**
 * The value writers the generated code calls (json-out.ts's and document-writer.ts's).
 * The first ones write at most a known number of bytes (the segment made room for them
 * at its start); the others may write any number and grow the buffer, and take `rest`,
 * the room the segment's writes after them need, which they make before returning (the
 * segment then reads o.buf and o.view again).
 */
export interface SegmentHelpers {
  /** Any number as a JSON number (32 bytes of room). */
  readonly num: (view: DataView, p: number, x: number) => number;
  /** `String(n)` (an interface id, between quotes; 32 bytes of room). */
  readonly numText: (view: DataView, p: number, x: number) => number;
  /** A quoted IPv4 address from its number (24 bytes of room). */
  readonly ipv4: (view: DataView, p: number, x: number) => number;
  /** A quoted ISO date (32 bytes of room), or -1 for no plausible date. */
  readonly iso: (b: Uint8Array, view: DataView, p: number, ms: number) => number;
  /** A simple Text (its length + 8 of room). */
  readonly text: (view: DataView, p: number, t: Text) => number;
  /** A JSON string (an address as text). */
  readonly str: (o: JsonOut, p: number, s: string, rest: number) => number;
  /** `,"community_id":` and the quoted ID, or nothing when the tuple makes none. */
  readonly communityId: (o: JsonOut, p: number, r: FlowRecord, rest: number) => number;
  /** Any `netflow.*` element value, as the general writer writes it. */
  readonly value: (o: JsonOut, view: DataView, p: number, x: unknown, rest: number) => number;
  /** The same for a date element. */
  readonly dateValue: (o: JsonOut, view: DataView, p: number, x: unknown, rest: number) => number;
  /** json-out.ts's digit tables (DIGITS4, DIGITS4_LENGTH, PADDED4), for digits inline. */
  readonly D4: Uint32Array;
  readonly DL: Uint8Array;
  readonly P4: Uint32Array;
}

/** The `netflow.*` members of a layout, as document-writer.ts's FieldsPlan has them. */
export interface LayoutKeys {
  /** The `"key":` text of each field, comma first but for the first. */
  readonly keys: readonly Text[];
  readonly isDate: readonly boolean[];
  readonly isIpv4: readonly boolean[];
}

const has = (m: number, bit: number) => (m & bit) !== 0;

// The shape bits each segment depends on: records whose shapes differ elsewhere share it.
const HEAD_BITS = S.start | S.end | S.exportTime | S.inInterface | S.outInterface;
const TAIL_BITS = S.uptime | S.exportTime;
const ADDRESS_BITS = S.src | S.dst | S.srcText | S.dstText;
const COUNT_BITS = S.bytes | S.packets | S.reverseBytes | S.reversePackets;
const ENDS_BITS = ADDRESS_BITS | COUNT_BITS | S.icmp | S.srcPort | S.dstPort | S.srcAs | S.dstAs;
const NETWORK_BITS =
  ADDRESS_BITS |
  COUNT_BITS |
  S.sameAddress |
  S.ipv6 |
  S.icmp |
  S.icmpType |
  S.icmpCode |
  S.rate |
  (7 << SAMPLING_SOURCE_SHIFT);

/** The bits of `ends`: no ports for ICMP (the document has none). */
function endsKey(m: number): number {
  const k = m & ENDS_BITS;
  return has(k, S.icmp) ? k & ~(S.srcPort | S.dstPort) : k;
}

/** The bits of `network`: ICMP type and code only for ICMP, a sampling source only with a rate. */
function networkKey(m: number): number {
  let k = m & NETWORK_BITS;
  if (!has(k, S.icmp)) k &= ~(S.icmpType | S.icmpCode);
  if (!has(k, S.rate)) k &= ~(7 << SAMPLING_SOURCE_SHIFT);
  return k;
}

/** Room a number takes (16 digits and a store's overrun, or its text of up to 25). */
const NUMBER_ROOM = 32;

/**
 * The digits of x at p inline when it is an integer 0 <= x < 1e8 (digitsAt's code: a
 * document has some 35 numbers, more calls than V8 inlines into one function), else
 * `call` (an expression of x giving the position after what it wrote). The branches
 * here are the segment's own: a number of another kind first met after V8 optimized
 * the segment makes it deoptimize once and optimize again, which for a function this
 * small takes little.
 */
const DIGITS_OR = (call: string) =>
  'if (x >= 0 && x < 100000000 && (x | 0) === x) {\n' +
  'if (x < 10000) { view.setUint32(p, D4[x], true); p += DL[x]; }\n' +
  'else { y = (x / 10000) | 0; view.setUint32(p, D4[y], true); p += DL[y]; view.setUint32(p, P4[x - y * 10000], true); p += 4; }\n' +
  `} else p = ${call};\n`;

/**
 * A segment's body: constant text gathered until a value needs writing, then stored as
 * inline float64 constants; `need` sums the room its bounded writes take, which the
 * segment makes once at its start, and again after each writer that may grow the buffer
 * for what follows it (`rest`).
 */
class Body {
  code = '';
  private text = '';
  need = 0;
  /** The need before each writer that may grow the buffer, by its marker's number. */
  private readonly marks: number[] = [];

  t(s: string): void {
    this.text += s;
  }

  flush(): void {
    if (this.text === '') return;
    const t = new Text(this.text);
    if (!t.simple) throw new Error(`not simple text: ${this.text}`);
    for (let i = 0; i < t.chunks.length; i++) {
      this.code += `view.setFloat64(p + ${i * 8}, ${t.chunks[i]}, true);\n`;
    }
    this.code += `p += ${t.length};\n`;
    this.need += t.length + 8;
    this.text = '';
  }

  /** Code that writes at most `bound` bytes at p, stores past its end included. */
  x(code: string, bound: number): void {
    this.flush();
    this.code += code;
    this.need += bound;
  }

  /**
   * A number member's value; `large` for one that is seldom below 1e8 (a duration in
   * nanoseconds, an uptime, a sequence number), which num writes without the inline
   * digits: their branch would be taken first late, and cost a deoptimization then.
   */
  num(expr: string, large = false): void {
    if (large) this.x(`p = num(view, p, ${expr});\n`, NUMBER_ROOM);
    else this.x(`x = ${expr};\n${DIGITS_OR('num(view, p, x)')}`, NUMBER_ROOM);
  }

  /** A time that must be a date, else the record is declined. */
  date(expr: string): void {
    this.x(`x = iso(b, view, p, ${expr});\nif (x < 0) return -1;\np = x;\n`, 32);
  }

  /**
   * A call of a writer that may grow the buffer: `call(rest)` is its code given the
   * expression of the room needed after it (known once the body is complete).
   */
  grows(call: (rest: string) => string, bound = 0): void {
    this.flush();
    this.code += `${call(`REST_${this.marks.length}_`)}\nb = o.buf; view = o.view;\n`;
    this.need += bound;
    this.marks.push(this.need);
  }

  /** The function's text: room for `need` (and the text parameter) made first. */
  source(name: string, params: string, texts: readonly string[]): string {
    this.flush();
    const total = this.need + 16;
    const extra = texts.map((t) => ` + ${t}.length`).join('');
    const code = this.code.replace(
      /REST_([0-9]+)_/g,
      (_, k: string) => `${total - (this.marks[Number(k)] as number)}${extra}`,
    );
    const need = `${total}${extra}`;
    return (
      `return function ${name}(${params}) {\n` +
      'let b = o.buf; let view = o.view; let x = 0; let y = 0;\n' +
      `if (p + ${need} + 8 > o.limit) { o.pos = p; o.reserve(${need}); b = o.buf; view = o.view; }\n` +
      `${code}return p;\n};`
    );
  }
}

/** The typeOf text of a NetFlow/IPFIX flow record. */
const FLOW_TYPE = jsonString('netflow_flow');

/** `@timestamp`, `event` and `observer` with its interfaces, left open. */
function headSource(m: number): string {
  const g = new Body();
  // @timestamp: the end, else the export time, else the arrival.
  g.t('{"@timestamp":');
  g.date(has(m, S.end) ? 'r.endMs' : has(m, S.exportTime) ? 'ex.exportTimeMs' : 'r.receivedMs');
  g.t(
    `,"event":{"kind":"event","category":["network"],"type":["connection"],"action":${FLOW_TYPE},"created":`,
  );
  g.date('r.receivedMs');
  if (has(m, S.start)) {
    g.t(',"start":');
    g.date('r.startMs');
  }
  if (has(m, S.end)) {
    g.t(',"end":');
    g.date('r.endMs');
    if (has(m, S.start)) {
      g.t(',"duration":');
      g.num('Math.round((r.endMs - r.startMs) * 1000000)', true);
    }
  }
  // The observer text starts with the `}` that ends event.
  g.x('p = text(view, p, t);\n', 0);
  for (const [bit, name, expr] of [
    [S.inInterface, 'ingress', 'r.inInterface'],
    [S.outInterface, 'egress', 'r.outInterface'],
  ] as const) {
    if (!has(m, bit)) continue;
    g.t(`,"${name}":{"interface":{"id":"`);
    g.x(`x = ${expr};\n${DIGITS_OR('numText(view, p, x)')}`, NUMBER_ROOM);
    g.t('"}}');
  }
  return g.source(`head_${m.toString(16)}`, 'o, r, ex, p, t', ['t']);
}

/** From the observer's end: source and destination, the second left open. */
function endsSource(m: number): string {
  const g = new Body();
  const icmp = has(m, S.icmp);
  for (const side of ['source', 'destination'] as const) {
    const src = side === 'source';
    g.t(`},"${side}":{`);
    let first = true;
    const key = (name: string) => {
      g.t(`${first ? '' : ','}"${name}":`);
      first = false;
    };
    if (has(m, src ? S.src | S.srcText : S.dst | S.dstText)) {
      key('ip');
      address(g, m, src ? 'src' : 'dst');
    }
    if (!icmp && has(m, src ? S.srcPort : S.dstPort)) {
      key('port');
      g.num(src ? 'r.srcPort' : 'r.dstPort');
    }
    if (has(m, src ? S.bytes : S.reverseBytes)) {
      key('bytes');
      g.num(src ? 'r.bytes' : 'r.reverseBytes');
    }
    if (has(m, src ? S.packets : S.reversePackets)) {
      key('packets');
      g.num(src ? 'r.packets' : 'r.reversePackets');
    }
    if (has(m, src ? S.srcAs : S.dstAs)) {
      key('as');
      g.t('{"number":');
      g.num(src ? 'r.srcAs' : 'r.dstAs');
      g.t('}');
    }
  }
  return g.source(`ends_${m.toString(16)}`, 'o, r, ex, p', []);
}

/** An address: from its number (IPv4), else its text. */
function address(g: Body, m: number, n: 'src' | 'dst'): void {
  if (has(m, n === 'src' ? S.src : S.dst)) g.x(`p = ipv4(view, p, r.${n}Ipv4);\n`, 24);
  else g.grows((rest) => `p = str(o, p, r.${n}Addr, ${rest});`);
}

/** From the destination's end to `netflow`'s head: network, icmp, related, sluice. */
function networkSource(m: number): string {
  const g = new Body();
  const icmp = has(m, S.icmp);
  const hasSrc = has(m, S.src | S.srcText);
  const hasDst = has(m, S.dst | S.dstText);
  // network: the protocol's head (with the IPv4 type when the record is IPv4) is `t`.
  g.x('p = text(view, p, t);\n', 0);
  if (has(m, S.ipv6)) g.t(',"type":"ipv6"');
  const sum = (a: number, b: number, ea: string, eb: string): string | undefined =>
    has(m, a) && has(m, b) ? `${ea} + ${eb}` : has(m, a) ? ea : has(m, b) ? eb : undefined;
  const bytes = sum(S.bytes, S.reverseBytes, 'r.bytes', 'r.reverseBytes');
  const packets = sum(S.packets, S.reversePackets, 'r.packets', 'r.reversePackets');
  if (bytes !== undefined) {
    g.t(',"bytes":');
    g.num(bytes);
  }
  if (packets !== undefined) {
    g.t(',"packets":');
    g.num(packets);
  }
  // The direction member is `d` (a value, not part of the code: one segment for all three).
  g.x('p = text(view, p, d);\n', 0);
  if (hasSrc && hasDst) g.grows((rest) => `p = communityId(o, p, r, ${rest});`);
  g.t('}');
  if (icmp && has(m, S.icmpType)) {
    g.t(',"icmp":{"type":');
    g.num('r.icmpType');
    if (has(m, S.icmpCode)) {
      g.t(',"code":');
      g.num('r.icmpCode');
    }
    g.t('}');
  }
  if (hasSrc || hasDst) {
    g.t(',"related":{"ip":[');
    if (!hasSrc) address(g, m, 'dst');
    else {
      address(g, m, 'src');
      if (hasDst && !has(m, S.sameAddress)) {
        g.t(',');
        address(g, m, 'dst');
      }
    }
    g.t(']}');
  }
  if (has(m, S.rate)) {
    g.t(',"sluice":{"sampling":{"rate":');
    g.num('r.samplingRate');
    const code = (m >>> SAMPLING_SOURCE_SHIFT) & 7;
    if (code > 0) g.t(`,"source":${jsonString(SAMPLING_SOURCES[code - 1] as string)}`);
    g.t('},"scaled":{');
  } else {
    g.t(',"sluice":{"scaled":{');
  }
  // sluice.scaled: the counts multiplied by a sampling rate above 1.
  const scale = (e: string) =>
    has(m, S.rate) ? `(r.samplingRate > 1 ? (${e}) * r.samplingRate : ${e})` : e;
  if (bytes !== undefined) {
    g.t('"bytes":');
    g.num(scale(bytes));
  }
  if (packets !== undefined) {
    g.t(bytes !== undefined ? ',"packets":' : '"packets":');
    g.num(scale(packets));
  }
  g.t('}},"netflow":{');
  return g.source(`network_${m.toString(16)}`, 'o, r, ex, p, t, d', ['t', 'd']);
}

/** `netflow.exporter` from its constant head `t`, and the document's end. */
function tailSource(m: number): string {
  const g = new Body();
  g.x('p = text(view, p, t);\n', 0);
  g.t(',"sequence":');
  g.num('ex.sequence', true);
  if (has(m, S.uptime)) {
    g.t(',"uptime_millis":');
    g.num('ex.uptimeMs', true);
  }
  if (has(m, S.exportTime)) {
    g.t(',"timestamp":');
    g.date('ex.exportTimeMs');
  }
  g.t(`},"type":${FLOW_TYPE}}}`);
  return g.source(`tail_${m.toString(16)}`, 'o, r, ex, p, t', ['t']);
}

/**
 * Members per `netflow.*` segment, and the room their bounded writes may take: each
 * stays a small function whatever the layout.
 */
export const MAX_CHUNK = 12;
const MAX_CHUNK_NEED = 1024;

/** Room one member may take: its key, its value's bounded writes. */
function memberNeed(layout: LayoutKeys, i: number): number {
  return (layout.keys[i] as Text).length + 8 + NUMBER_ROOM;
}

/** The `netflow.*` members from..to-1 of a layout: each key merged into the text before it. */
function membersSource(layout: LayoutKeys, from: number, to: number): string {
  const { keys, isDate, isIpv4 } = layout;
  const g = new Body();
  for (let i = from; i < to; i++) {
    g.t((keys[i] as Text).text);
    const v = `values[${i}]`;
    if (isIpv4[i]) {
      g.x(`x = ${v};\nif (ipv4s[${i}] === 1) p = ipv4(view, p, x);\nelse {\n`, 24);
      g.grows((rest) => `p = value(o, view, p, x, ${rest});`, NUMBER_ROOM);
      g.code += '}\n';
    } else if (isDate[i]) {
      // A time (nearly every value) by iso, which V8 inlines; the rest by the general writer.
      g.x(
        `x = ${v};\nif (typeof x === "number" && (y = iso(b, view, p, x)) >= 0) p = y;\nelse {\n`,
        0,
      );
      g.grows((rest) => `p = dateValue(o, view, p, x, ${rest});`, NUMBER_ROOM);
      g.code += '}\n';
    } else {
      // Numbers (nearly every value) inline; the rest by the general writer.
      g.x(`x = ${v};\nif (typeof x === "number") {\n${DIGITS_OR('num(view, p, x)')}} else {\n`, 0);
      g.grows((rest) => `p = value(o, view, p, x, ${rest});`, NUMBER_ROOM);
      g.code += '}\n';
    }
  }
  return g.source(`members_${from}_${to}`, 'o, values, ipv4s, p', []);
}

/** Where the layout's members are cut into segments: [from, to) pairs. */
function memberChunks(layout: LayoutKeys): [number, number][] {
  const chunks: [number, number][] = [];
  let from = 0;
  let need = 0;
  for (let i = 0; i < layout.keys.length; i++) {
    const n = memberNeed(layout, i);
    if (i > from && (i - from >= MAX_CHUNK || need + n > MAX_CHUNK_NEED)) {
      chunks.push([from, i]);
      from = i;
      need = 0;
    }
    need += n;
  }
  if (layout.keys.length > from) chunks.push([from, layout.keys.length]);
  return chunks;
}

const PRELUDE =
  'const { num, numText, ipv4, iso, text, str, communityId, value, dateValue, D4, DL, P4 } = h;\n';

/** Whether `new Function` works here (false once it has thrown EvalError). */
let codeGeneration = true;

function compile<F>(source: string, h: SegmentHelpers): F | undefined {
  if (!codeGeneration) return undefined;
  let factory: (h: SegmentHelpers) => F;
  try {
    factory = new Function('h', PRELUDE + source) as (h: SegmentHelpers) => F;
  } catch (err) {
    // Code generation disallowed: the general writer writes every record. Anything
    // else is a bug in the generated text, not to be hidden behind the fallback.
    if (err instanceof EvalError) {
      codeGeneration = false;
      return undefined;
    }
    throw err;
  }
  return factory(h);
}

/** The head, flow and tail segments of a shape. */
export interface ShapeSegments {
  readonly head: Segment;
  readonly ends: Segment;
  readonly network: Segment;
  readonly tail: Segment;
}

/** Segments by the shape bits they depend on: shared by every shape that has them. */
const heads = new Map<number, Segment>();
const ends = new Map<number, Segment>();
const networks = new Map<number, Segment>();
const tails = new Map<number, Segment>();

/**
 * At most this many of each kind. A record has some 25 shape bits, but an exporter's
 * records take a few shapes; past the bound a new shape is written by the general
 * writer (an exporter varying every member cannot make us generate without end).
 */
const MAX_SEGMENTS = 512;

function segment(
  cache: Map<number, Segment>,
  bits: number,
  source: (m: number) => string,
  h: SegmentHelpers,
): Segment | undefined {
  const known = cache.get(bits);
  if (known !== undefined || cache.size >= MAX_SEGMENTS) return known;
  const made = compile<Segment>(source(bits), h);
  if (made !== undefined) cache.set(bits, made);
  return made;
}

/** The segments of a flow record's shape; undefined when they cannot be made. */
export function shapeSegments(m: number, h: SegmentHelpers): ShapeSegments | undefined {
  const head = segment(heads, m & HEAD_BITS, headSource, h);
  const end = segment(ends, endsKey(m), endsSource, h);
  const network = segment(networks, networkKey(m), networkSource, h);
  const tail = segment(tails, m & TAIL_BITS, tailSource, h);
  if (head === undefined || end === undefined || network === undefined) return undefined;
  if (tail === undefined) return undefined;
  return { head, ends: end, network, tail };
}

/**
 * The `netflow.*` segments of a layout (at least one member); undefined when code
 * generation is disallowed or a key is not plain ASCII.
 */
export function membersSegments(
  layout: LayoutKeys,
  h: SegmentHelpers,
): MembersSegment[] | undefined {
  if (!layout.keys.every((k) => k.simple && k.length < 256)) return undefined;
  const out: MembersSegment[] = [];
  for (const [from, to] of memberChunks(layout)) {
    const made = compile<MembersSegment>(membersSource(layout, from, to), h);
    if (made === undefined) return undefined;
    out.push(made);
  }
  return out;
}

/** The generated source of a shape's segments and a layout's members (tests read them). */
export function generatedSources(m: number, layout: LayoutKeys): string[] {
  return [
    headSource(m & HEAD_BITS),
    endsSource(endsKey(m)),
    networkSource(networkKey(m)),
    tailSource(m & TAIL_BITS),
    ...memberChunks(layout).map(([from, to]) => membersSource(layout, from, to)),
  ];
}
