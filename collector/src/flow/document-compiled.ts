// The whole document of a NetFlow/IPFIX flow record, written by code generated for one
// record layout and one record shape (document-shape.ts). The shape says which members
// the document has, so the general writer's tests of every member and its `first`/comma
// bookkeeping are done here once, at generation: the generated code is straight-line
// stores of constant text (merged across member boundaries, as inline float64
// constants) between the values. What still depends on the values stays a branch at run
// time: small integers against other numbers and non-numbers, IPv4 elements, dates that
// are no plausible date (the writer then returns false and the general writer writes
// the record), a Community ID the tuple cannot make.
//
// Values a document repeats are written once and copied: the source and destination
// addresses (source/destination.ip, related.ip, netflow.*), @timestamp as event.end,
// and times equal to another already written. Copies are integer loads and stores
// (copyAt), never float64 loads of arbitrary bytes (a NaN could change its bits).
//
// document-writer.ts decides when a writer is made (a common layout), looks it up by
// shape, and falls back to the general writer when code generation is disallowed.
// document-compiled.test.ts compares the two on generated records.

import { S, SAMPLING_SOURCE_SHIFT, SAMPLING_SOURCES } from './document-shape.js';
import { jsonString } from './fast-json.js';
import type { JsonOut } from './json-out.js';
import { ISO_CACHE, type OCTETS, Text } from './json-out.js';
import type { ExporterInfo, FlowRecord } from './record.js';

/**
 * Writes a record's document at o.pos; false when a value needs the general writer
 * (the caller puts o.pos back). `observer` is the exporter's `},"observer":{"ip":...`
 * text, `head` its `,"exporter":{...` text (comma first when the layout has members),
 * `net` the `},"network":{...` head of the record's protocol.
 */
export type DocumentWriter = (
  o: JsonOut,
  r: FlowRecord,
  ex: ExporterInfo,
  observer: Text,
  head: Text,
  net: Text,
  values: readonly unknown[],
  ipv4s: Uint8Array,
) => boolean;

/** The writers the generated code calls. */
export interface DocumentHelpers {
  /** A JSON number (o.pos and room managed by the writer). */
  readonly number: (o: JsonOut, v: number) => void;
  /** `String(n)` (interface ids). */
  readonly numberText: (o: JsonOut, v: number) => void;
  /** A JSON string (addresses as text). */
  readonly str: (o: JsonOut, v: string) => void;
  /** Any element value, as the general writer writes it. */
  readonly field: (o: JsonOut, v: unknown, isDate: boolean) => void;
  /** The quoted Community ID, or false (nothing written). */
  readonly communityId: (o: JsonOut, r: FlowRecord) => boolean;
  /** json-out.ts's digit tables (DIGITS4, DIGITS4_LENGTH, PADDED4). */
  readonly D4: Uint32Array;
  readonly DL: Uint8Array;
  readonly P4: Uint32Array;
  readonly isoAt: (b: Uint8Array, view: DataView, p: number, ms: number) => number;
  readonly copyAt: (view: DataView, p: number, from: number, n: number) => number;
  readonly textAt: (view: DataView, p: number, t: Text) => number;
  /** ipv4At's tables (json-out.ts OCTETS), for addresses written inline. */
  readonly octets: typeof OCTETS;
  /** isoAt's cache (json-out.ts ISO_CACHE), for dates written inline. */
  readonly iso: typeof ISO_CACHE;
}

/** The `netflow.*` members of a layout, as FieldsPlan has them. */
export interface LayoutKeys {
  /** The `"key":` text of each field, comma first but for the first. */
  readonly keys: readonly Text[];
  readonly isDate: readonly boolean[];
  readonly isIpv4: readonly boolean[];
}

/**
 * The digits of a small integer x at p, inline (digitsAt's code: a document has some 30
 * numbers, more calls than V8 inlines into one function).
 */
const DIGITS =
  'y = x | 0;\nif (y < 10000) { view.setUint32(p, D4[y], true); p += DL[y]; }\n' +
  'else { w = (y / 10000) | 0; view.setUint32(p, D4[w], true); p += DL[w]; view.setUint32(p, P4[y - w * 10000], true); p += 4; }\n';

/**
 * The digits of a whole number 1e8 <= x <= 2^53 at p, inline (uintAt's code): the
 * digits above the last eight, then those eight zero-padded.
 */
const BIG_DIGITS =
  'w = Math.floor(x / 100000000); y = x - w * 100000000; w |= 0;\n' +
  'if (w < 10000) { view.setUint32(p, D4[w], true); p += DL[w]; }\n' +
  'else { z = (w / 10000) | 0; view.setUint32(p, D4[z], true); p += DL[z]; view.setUint32(p, P4[w - z * 10000], true); p += 4; }\n' +
  'z = (y / 10000) | 0; view.setUint32(p, P4[z], true); view.setUint32(p + 4, P4[y - z * 10000], true); p += 8;\n';

/** The quoted IPv4 address of the number x at p, inline (ipv4At's code). */
const IPV4 =
  'view.setUint8(p, 34); y = x >>> 24; view.setUint32(p + 1, OD[y], true); p += 1 + OL[y];\n' +
  'y = (x >>> 16) & 255; view.setUint32(p, OD[y], true); p += OL[y];\n' +
  'y = (x >>> 8) & 255; view.setUint32(p, OD[y], true); p += OL[y];\n' +
  'y = x & 255; view.setUint32(p, OQ[y], true); p += OL[y];\n';

/** A small non-negative integer: the test that takes a number's digits unchecked. */
const SMALL = (x: string) => `${x} >= 0 && ${x} < 100000000 && (${x} | 0) === ${x}`;

/**
 * Builds the body: constant text gathered until a value needs writing, then stored.
 * Room: the writer makes room at its start, and again after every call to a writer that
 * may grow the buffer, for everything the document's bounded writes (text, digits,
 * addresses, dates, copies) can take: `need`, their sum over the whole document, since a
 * check inside a branch may not run.
 */
class Body {
  code = '';
  private text = '';
  need = 0;

  t(s: string): void {
    this.text += s;
  }

  /** Stores the text gathered so far as inline float64 constants. */
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

  /** Code that writes at most `bound` bytes at p (its stores past the end included). */
  x(code: string, bound: number): void {
    this.flush();
    this.code += code;
    this.need += bound;
  }

  /** A call to a writer that keeps o.pos and makes its own room; room is made again after. */
  call(code: string): void {
    this.flush();
    this.code += `o.pos = p; ${code}; p = o.pos;\n`;
    this.code += 'if (p + need > o.limit) o.reserve(need);\nb = o.buf; view = o.view;\n';
  }
}

/**
 * A whole number up to 2^53 (the test writeNumber and writeNumberText make before
 * writing digits): at most 16 digits, and the word stores may write 4 past them.
 */
const UINT = (x: string) => `${x} >= 0 && ${x} <= 9007199254740992 && Math.floor(${x}) === ${x}`;

/**
 * A member's value known to be a number: its digits inline when it is a whole number up
 * to 2^53 (uptimes and VRF ids too), else the general writer: `number` for a JSON
 * number, `numberText` for `String(n)` (interface ids, which the document quotes).
 */
function num(g: Body, expr: string, writer: 'number' | 'numberText' = 'number'): void {
  g.x(
    `x = ${expr};\nif (${SMALL('x')}) {\n${DIGITS}}\nelse if (${UINT('x')}) {\n${BIG_DIGITS}}\nelse {\n`,
    24,
  );
  g.call(`${writer}(o, x)`);
  g.code += '}\n';
}

/**
 * isoAt's code for the time in x, known to be a plausible date, at p: the slot's text
 * from the cache (filled when it holds another second), then the milliseconds and quote.
 */
function isoCode(nativeLE: boolean): string {
  return (
    `y = Math.floor(x); w = Math.floor(y / 1000); y -= w * 1000; z = w & ${ISO_CACHE.slots - 1};\n` +
    'if (ISO_SECONDS[z] !== w) isoFill(z, w);\nz *= 3;\n' +
    `view.setUint8(p, 34); view.setFloat64(p + 1, ISO_CHUNKS[z], ${nativeLE}); view.setFloat64(p + 9, ISO_CHUNKS[z + 1], ${nativeLE}); view.setFloat64(p + 17, ISO_CHUNKS[z + 2], ${nativeLE});\n` +
    'view.setUint32(p + 21, ISO_MILLIS[y], true); view.setUint8(p + 25, 34); p += 26;\n'
  );
}

/** A date that must be one: else the general writer writes the record. */
function date(g: Body, expr: string, at: string | undefined): void {
  g.x(
    `x = ${expr};\nif (!(x >= 0 && x <= ${ISO_CACHE.max})) return false;\n${at !== undefined ? `${at} = p;\n` : ''}${isoCode(ISO_CACHE.nativeLE)}`,
    32,
  );
}

/** The typeOf text of a NetFlow/IPFIX flow record. */
const FLOW_TYPE = jsonString('netflow_flow');

/**
 * The generated body for a layout and shape (see DocumentWriter for its parameters),
 * mirroring writeDirect and writeFlow member for member.
 */
function documentBody(m: number, layout: LayoutKeys): string {
  const has = (bit: number) => (m & bit) !== 0;
  const g = new Body();
  g.code += 'let p = o.pos; let b; let view; let x; let y = 0; let w = 0; let z = 0; let at = 0;\n';
  g.code +=
    'let tsAt = 0; let createdAt = 0; let startAt = 0; let srcAt = 0; let srcLen = 0; let dstAt = 0; let dstLen = 0;\n';
  g.code +=
    'const need = NEED + observer.length + head.length + net.length;\nif (p + need > o.limit) o.reserve(need);\nb = o.buf; view = o.view;\n';
  // @timestamp: the end, else the export time, else the arrival.
  const ts = has(S.end) ? 'r.endMs' : has(S.exportTime) ? 'ex.exportTimeMs' : 'r.receivedMs';
  g.t('{"@timestamp":');
  date(g, ts, 'tsAt');
  g.t(
    `,"event":{"kind":"event","category":["network"],"type":["connection"],"action":${FLOW_TYPE},"created":`,
  );
  if (ts === 'r.receivedMs') g.x('createdAt = p; p = copyAt(view, p, tsAt, 26);\n', 30);
  else date(g, 'r.receivedMs', 'createdAt');
  if (has(S.start)) {
    g.t(',"start":');
    date(g, 'r.startMs', 'startAt');
  }
  if (has(S.end)) {
    g.t(',"end":');
    // @timestamp is the end's text.
    g.x('p = copyAt(view, p, tsAt, 26);\n', 30);
    if (has(S.start)) {
      g.t(',"duration":');
      num(g, 'Math.round((r.endMs - r.startMs) * 1000000)');
    }
  }
  g.x('p = textAt(view, p, observer);\n', 0);
  if (has(S.inInterface)) {
    g.t(',"ingress":{"interface":{"id":"');
    num(g, 'r.inInterface', 'numberText');
    g.t('"}}');
  }
  if (has(S.outInterface)) {
    g.t(',"egress":{"interface":{"id":"');
    num(g, 'r.outInterface', 'numberText');
    g.t('"}}');
  }
  const icmp = has(S.icmp);
  // An address as a number is written once and copied after; as text (IPv6, of any
  // length) it is written again by the string writer.
  const hasSrc = has(S.src) || has(S.srcText);
  const hasDst = has(S.dst) || has(S.dstText);
  const again = (n: 'src' | 'dst') => {
    if (has(n === 'src' ? S.src : S.dst)) g.x(`p = copyAt(view, p, ${n}At, ${n}Len);\n`, 22);
    else g.call(`str(o, r.${n}Addr)`);
  };
  for (const side of ['source', 'destination'] as const) {
    const src = side === 'source';
    g.t(`},"${side}":{`);
    let first = true;
    const key = (name: string) => {
      g.t(`${first ? '' : ','}"${name}":`);
      first = false;
    };
    if (has(src ? S.src : S.dst)) {
      key('ip');
      const n = src ? 'src' : 'dst';
      g.x(`${n}At = p; x = r.${n}Ipv4;\n${IPV4}${n}Len = p - ${n}At;\n`, 24);
    } else if (has(src ? S.srcText : S.dstText)) {
      key('ip');
      g.call(`str(o, r.${src ? 'src' : 'dst'}Addr)`);
    }
    if (!icmp && has(src ? S.srcPort : S.dstPort)) {
      key('port');
      num(g, src ? 'r.srcPort' : 'r.dstPort');
    }
    if (has(src ? S.bytes : S.reverseBytes)) {
      key('bytes');
      num(g, src ? 'r.bytes' : 'r.reverseBytes');
    }
    if (has(src ? S.packets : S.reversePackets)) {
      key('packets');
      num(g, src ? 'r.packets' : 'r.reversePackets');
    }
    if (has(src ? S.srcAs : S.dstAs)) {
      key('as');
      g.t('{"number":');
      num(g, src ? 'r.srcAs' : 'r.dstAs');
      g.t('}');
    }
  }
  // network: the protocol's head (with the IPv4 type when the shape says so) is `net`.
  g.x('p = textAt(view, p, net);\n', 0);
  if (has(S.ipv6)) g.t(',"type":"ipv6"');
  const sum = (a: number, b: number, ea: string, eb: string): string | undefined =>
    has(a) && has(b) ? `${ea} + ${eb}` : has(a) ? ea : has(b) ? eb : undefined;
  const bytes = sum(S.bytes, S.reverseBytes, 'r.bytes', 'r.reverseBytes');
  const packets = sum(S.packets, S.reversePackets, 'r.packets', 'r.reversePackets');
  if (bytes !== undefined) {
    g.t(',"bytes":');
    num(g, bytes);
  }
  if (packets !== undefined) {
    g.t(',"packets":');
    num(g, packets);
  }
  g.t(`,"direction":"${has(S.ingress) ? 'ingress' : has(S.egress) ? 'egress' : 'unknown'}"`);
  if (hasSrc && hasDst) {
    g.x('at = p;\n', 0);
    g.t(',"community_id":');
    g.flush();
    g.call('if (!communityId(o, r)) o.pos = at');
  }
  g.t('}');
  if (icmp && has(S.icmpType)) {
    g.t(',"icmp":{"type":');
    num(g, 'r.icmpType');
    if (has(S.icmpCode)) {
      g.t(',"code":');
      num(g, 'r.icmpCode');
    }
    g.t('}');
  }
  if (hasSrc || hasDst) {
    g.t(',"related":{"ip":[');
    if (!hasSrc) again('dst');
    else {
      again('src');
      if (hasDst && !has(S.sameAddress)) {
        g.t(',');
        again('dst');
      }
    }
    g.t(']}');
  }
  if (has(S.rate)) {
    g.t(',"sluice":{"sampling":{"rate":');
    num(g, 'r.samplingRate');
    const code = (m >>> SAMPLING_SOURCE_SHIFT) & 7;
    if (code > 0) g.t(`,"source":${jsonString(SAMPLING_SOURCES[code - 1] as string)}`);
    g.t('},"scaled":{');
  } else {
    g.t(',"sluice":{"scaled":{');
  }
  // sluice.scaled: the counts multiplied by a sampling rate above 1.
  const scale = (e: string) =>
    has(S.rate) ? `(r.samplingRate > 1 ? (${e}) * r.samplingRate : ${e})` : e;
  if (bytes !== undefined) {
    g.t('"bytes":');
    num(g, scale(bytes));
  }
  if (packets !== undefined) {
    g.t(bytes !== undefined ? ',"packets":' : '"packets":');
    num(g, scale(packets));
  }
  g.t('}},"netflow":{');
  netflowMembers(g, m, layout);
  g.x('p = textAt(view, p, head);\n', 0);
  g.t(',"sequence":');
  num(g, 'ex.sequence');
  if (has(S.uptime)) {
    g.t(',"uptime_millis":');
    num(g, 'ex.uptimeMs');
  }
  if (has(S.exportTime)) {
    g.t(',"timestamp":');
    // Often the arrival time (a collector's clock) or the end: copied when equal.
    g.x('if (ex.exportTimeMs === r.receivedMs) p = copyAt(view, p, createdAt, 26);\nelse {\n', 30);
    date(g, 'ex.exportTimeMs', undefined);
    g.code += '}\n';
  }
  g.t(`},"type":${FLOW_TYPE}}}`);
  g.flush();
  g.code += 'o.pos = p;\nreturn true;\n';
  // The dynamic texts' overrun (up to 7 bytes each) is within the margin.
  return `const NEED = ${g.need + 64};\n${g.code}`;
}

/** The `netflow.*` members: each key merged into the text before it, then its value. */
function netflowMembers(g: Body, m: number, layout: LayoutKeys): void {
  const { keys, isDate, isIpv4 } = layout;
  const has = (bit: number) => (m & bit) !== 0;
  for (let i = 0; i < keys.length; i++) {
    g.t((keys[i] as Text).text);
    const v = `values[${i}]`;
    if (isIpv4[i]) {
      // The record's addresses came from these elements: their text is copied.
      let copy = '';
      if (has(S.src)) copy += `if (x === r.srcIpv4) p = copyAt(view, p, srcAt, srcLen);\nelse `;
      if (has(S.dst)) copy += `if (x === r.dstIpv4) p = copyAt(view, p, dstAt, dstLen);\nelse `;
      g.x(`x = ${v};\nif (ipv4s[${i}] === 1) {\n${copy}{\n${IPV4}}\n} else {\n`, 24);
      g.call('if (typeof x === "number") number(o, x); else field(o, x, false)');
      g.code += '}\n';
      continue;
    }
    if (isDate[i]) {
      let copy = '';
      if (has(S.start)) copy += 'if (x === r.startMs) p = copyAt(view, p, startAt, 26);\nelse ';
      if (has(S.end)) copy += 'if (x === r.endMs) p = copyAt(view, p, tsAt, 26);\nelse ';
      g.x(
        `x = ${v};\nif (typeof x === "number") {\n${copy}{\nat = isoAt(b, view, p, x);\nif (at >= 0) p = at;\nelse {\n`,
        32,
      );
      g.call('number(o, x)');
      g.code += '}\n}\n} else {\n';
      g.call('field(o, x, true)');
      g.code += '}\n';
      continue;
    }
    g.x(
      `x = ${v};\nif (typeof x === "number" && ${SMALL('x')}) {\n${DIGITS}}\nelse if (typeof x === "number" && ${UINT('x')}) {\n${BIG_DIGITS}}\nelse {\n`,
      24,
    );
    g.call('if (typeof x === "number") number(o, x); else field(o, x, false)');
    g.code += '}\n';
  }
}

type Factory = (h: DocumentHelpers) => DocumentWriter;

/**
 * The writer of flow records of `shape` with the `netflow.*` members of `layout`;
 * undefined when code generation is disallowed or a key is not plain ASCII.
 */
export function compileDocumentWriter(
  shape: number,
  layout: LayoutKeys,
  h: DocumentHelpers,
): DocumentWriter | undefined {
  if (!layout.keys.every((k) => k.simple)) return undefined;
  const code = documentBody(shape, layout);
  let factory: Factory;
  try {
    factory = new Function(
      'h',
      'const { number, numberText, str, field, communityId, isoAt, copyAt, textAt, D4, DL, P4 } = h;\n' +
        'const { dot: OD, quote: OQ, length: OL } = h.octets;\n' +
        'const { seconds: ISO_SECONDS, chunks: ISO_CHUNKS, millis: ISO_MILLIS, fill: isoFill } = h.iso;\n' +
        `return function writeDocument(o, r, ex, observer, head, net, values, ipv4s) {\n${code}};`,
    ) as Factory;
  } catch (err) {
    // Code generation disallowed: the general writer writes every record. Anything
    // else is a bug in the generated text, not to be hidden behind the fallback.
    if (err instanceof EvalError) return undefined;
    throw err;
  }
  return factory(h);
}
