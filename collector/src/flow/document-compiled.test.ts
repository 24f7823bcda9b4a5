import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type ElementInfo, ianaElements } from '../protocol/ipfix/registry/index.js';
import type { FieldValue, FlowField, RecordLayout } from '../protocol/templates/types.js';
import { documentText } from './document.js';
import { generatedSources } from './document-compiled.js';
import {
  serializeDocumentReference,
  toDocumentReference,
} from './document-reference.test-helpers.js';
import { S } from './document-shape.js';
import { writeCompiledDocument } from './document-writer.js';
import { JsonOut, Text, writeRaw } from './json-out.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import { canGenerateCode } from './record-members.test-helpers.js';

// The generated document segments (document-compiled.ts: head, flow and tail per record
// shape, `netflow.*` members per layout) against the original document builder, on
// records of decoded layouts (values beside the layout, IPv4 addresses as numbers) with
// every member the shape covers present or not, the values that change the text (ICMP,
// directions, sampling, one address or two, dates that are none, numbers past the digit
// tables, negative and fractional ones) and element values of every kind. Each layout is
// written often enough to get its segments; writeCompiledDocument is called directly so
// that a test fails if the generated path is never taken, and documentText must agree
// too. Each row is written into a buffer of its own, small and partly filled, so that
// the segments' room checks meet the buffer's end at every point of a document.

const ELEMENTS = ianaElements();
const byType = (t: string) => ELEMENTS.filter((e) => e.type === t);
const POOL: readonly ElementInfo[] = [
  ...byType('ipv4Address').slice(0, 8),
  ...ELEMENTS.filter((e) => e.type.startsWith('dateTime')).slice(0, 8),
  ...byType('unsigned64').slice(0, 12),
  ...byType('unsigned32').slice(0, 12),
  ...byType('unsigned16').slice(0, 8),
  ...byType('unsigned8').slice(0, 8),
  ...byType('octetArray').slice(0, 2),
  ...byType('string').slice(0, 2),
];

/** The text, or what was thrown (the original throws when no time is a date). */
function outcome(f: () => string): string {
  try {
    return f();
  } catch (err) {
    return `threw ${err instanceof Error ? err.name : String(err)}`;
  }
}

const ip = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

function opt<T>(arb: fc.Arbitrary<T>, weight = 3): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(undefined) });
}

/** Counters as decoders give them, and the values past the plain-digit range. */
const counterArb = fc.oneof(
  { weight: 12, arbitrary: fc.nat(0xffffffff) },
  { weight: 4, arbitrary: fc.nat(99_999) },
  { weight: 2, arbitrary: fc.maxSafeInteger() },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, -0, 9_999, 10_000, 99_999_999, 1e8, 2 ** 53, 2 ** 60, 1.5),
  },
  { weight: 1, arbitrary: fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY, 1e21) },
);

const timeArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 253_402_300_799_999 }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 253_402_300_799_999, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 253_402_300_800_000, Number.NaN) },
);

const ipv4Arb = fc.oneof(
  { weight: 6, arbitrary: fc.nat(0xffffffff) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0xffffffff, 0x7f000001) },
);

/** An element's value: what a decoder gives for its type, now and then anything else. */
function valueArb(info: ElementInfo): fc.Arbitrary<{ value: FieldValue; ipv4: boolean }> {
  const plain = (arb: fc.Arbitrary<FieldValue>) => arb.map((value) => ({ value, ipv4: false }));
  const odd = plain(
    fc.oneof(
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
      fc.string(),
      fc.uint8Array({ maxLength: 8 }),
      fc.boolean(),
    ),
  );
  let main: fc.Arbitrary<{ value: FieldValue; ipv4: boolean }>;
  if (info.type === 'ipv4Address') {
    main = fc.oneof(
      { weight: 6, arbitrary: ipv4Arb.map((value) => ({ value, ipv4: true })) },
      { weight: 1, arbitrary: plain(ipv4Arb.map(ip)) },
    );
  } else if (info.type.startsWith('dateTime')) main = plain(timeArb);
  else if (info.type === 'octetArray') main = plain(fc.uint8Array({ maxLength: 12 }));
  else if (info.type === 'string') main = plain(fc.string());
  else main = plain(counterArb);
  return fc.oneof({ weight: 12, arbitrary: main }, { weight: 1, arbitrary: odd });
}

/** Which members a run's records have: mostly kept by every record, as a template does. */
const presenceArb = fc.record({
  start: fc.boolean(),
  end: fc.boolean(),
  inInterface: fc.boolean(),
  outInterface: fc.boolean(),
  src: fc.boolean(),
  dst: fc.boolean(),
  srcPort: fc.boolean(),
  dstPort: fc.boolean(),
  bytes: fc.boolean(),
  packets: fc.boolean(),
  reverseBytes: fc.boolean(),
  reversePackets: fc.boolean(),
  srcAs: fc.boolean(),
  dstAs: fc.boolean(),
  uptime: fc.boolean(),
  exportTime: fc.boolean(),
  ipVersion: fc.boolean(),
  /** IPv6 addresses (text, as the producer keeps them) instead of IPv4 numbers. */
  v6: fc.oneof(
    { weight: 3, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

const rowArb = fc.record({
  receivedMs: timeArb,
  startMs: timeArb,
  endMs: timeArb,
  exportTimeMs: timeArb,
  uptimeMs: counterArb,
  sequence: counterArb,
  inInterface: counterArb,
  outInterface: counterArb,
  src: ipv4Arb,
  dst: ipv4Arb,
  src6: fc.ipV6(),
  dst6: fc.ipV6(),
  sameAddress: fc.boolean(),
  srcPort: fc.oneof({ weight: 8, arbitrary: fc.nat(65535) }, { weight: 1, arbitrary: counterArb }),
  dstPort: fc.oneof({ weight: 8, arbitrary: fc.nat(65535) }, { weight: 1, arbitrary: counterArb }),
  protocol: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(6, 17) },
    { weight: 2, arbitrary: fc.constantFrom(1, 58, 47, 132, 0, 255) },
    { weight: 1, arbitrary: fc.nat(255) },
  ),
  icmpType: opt(fc.nat(255)),
  icmpCode: opt(fc.nat(255)),
  bytes: counterArb,
  packets: counterArb,
  reverseBytes: counterArb,
  reversePackets: counterArb,
  srcAs: counterArb,
  dstAs: counterArb,
  direction: fc.constantFrom('ingress' as const, 'egress' as const, 'unknown' as const, undefined),
  samplingRate: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 100, 1024) },
    { weight: 1, arbitrary: counterArb },
  ),
  samplingSource: fc.constantFrom(undefined, 'header' as const, 'options' as const),
  /** Now and then a row drops a member its run has (another shape of the layout). */
  drop: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(16) }),
  /** Now and then a row's own direction and sampling instead of its run's. */
  own: fc.oneof(
    { weight: 5, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  /** Per element: whether its value is taken from the record (an address, a time). */
  ties: fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
});

type Row = typeof rowArb extends fc.Arbitrary<infer T> ? T : never;
type Presence = typeof presenceArb extends fc.Arbitrary<infer T> ? T : never;

/** A record of the layout as the NetFlow producer makes one, with its fields in step. */
function recordOf(
  layout: RecordLayout,
  values: FieldValue[],
  presence: Presence,
  row: Row,
  run: Row,
  exporter: ExporterInfo,
): FlowRecord {
  const keys = Object.keys(presence) as (keyof Presence)[];
  const has = (k: keyof Presence) => presence[k] && keys.indexOf(k) !== row.drop;
  const src = row.src;
  const dst = row.sameAddress ? row.src : row.dst;
  const r: FlowRecord = {
    kind: 'flow',
    exporter,
    receivedMs: row.receivedMs,
    protocol: row.protocol,
    fields: [],
  };
  if (presence.v6) {
    if (has('src')) r.srcAddr = row.src6;
    if (has('dst')) r.dstAddr = row.sameAddress ? row.src6 : row.dst6;
  } else {
    if (has('src')) {
      r.srcAddr = ip(src);
      r.srcIpv4 = src;
    }
    if (has('dst')) {
      r.dstAddr = ip(dst);
      r.dstIpv4 = dst;
    }
  }
  if (has('ipVersion')) r.ipVersion = presence.v6 ? 6 : 4;
  const members = [
    'startMs',
    'endMs',
    'inInterface',
    'outInterface',
    'srcPort',
    'dstPort',
    'bytes',
    'packets',
    'reverseBytes',
    'reversePackets',
    'srcAs',
    'dstAs',
  ] as const;
  for (const m of members) {
    const k = (m === 'startMs' ? 'start' : m === 'endMs' ? 'end' : m) as keyof Presence;
    if (has(k)) (r as unknown as Record<string, unknown>)[m] = row[m];
  }
  if (row.icmpType !== undefined) r.icmpType = row.icmpType;
  if (row.icmpCode !== undefined) r.icmpCode = row.icmpCode;
  const facts = row.own ? row : run;
  if (facts.direction !== undefined) r.direction = facts.direction;
  if (facts.samplingRate !== undefined) {
    r.samplingRate = row.own ? row.samplingRate : run.samplingRate;
    if (facts.samplingSource !== undefined) r.samplingSource = facts.samplingSource;
  }
  const ex: Record<string, unknown> = { ...exporter, sequence: row.sequence };
  if (has('uptime')) ex.uptimeMs = row.uptimeMs;
  else delete ex.uptimeMs;
  // The export time equal to the arrival now and then (the writer copies it then).
  if (has('exportTime')) ex.exportTimeMs = row.ties[23] ? row.receivedMs : row.exportTimeMs;
  else delete ex.exportTimeMs;
  r.exporter = ex as unknown as ExporterInfo;
  // Element values taken from the record's addresses and times.
  const vals = values.map((v, i) => {
    if (!row.ties[i]) return v;
    const info = layout.infos[i] as ElementInfo;
    if (layout.ipv4[i] === 1) return i % 2 === 0 ? (r.srcIpv4 ?? v) : (r.dstIpv4 ?? v);
    if (info.type.startsWith('dateTime')) return i % 2 === 0 ? (r.startMs ?? v) : (r.endMs ?? v);
    return v;
  });
  r.layout = layout;
  r.values = vals;
  r.fields = layout.infos.map(
    (info, i): FlowField =>
      layout.ipv4[i] === 1
        ? { info, value: ip(vals[i] as number), ipv4: vals[i] as number }
        : { info, value: vals[i] as FieldValue },
  );
  return r;
}

const exporterArb: fc.Arbitrary<ExporterInfo> = fc.record({
  address: fc.oneof(fc.ipV4(), fc.ipV6()),
  port: opt(fc.nat(65535)),
  protocol: fc.constant('netflow' as const),
  version: fc.constantFrom(5 as const, 9 as const, 10 as const),
  domain: fc.nat(),
  sequence: fc.nat(),
  uptimeMs: fc.nat(),
  exportTimeMs: fc.nat(),
});

/** The layout's rows: enough that the layout gets its generated writers (after 64). */
const ROWS = 120;

test('generated whole-document writers equal the reference text', () => {
  let compiled = 0;
  let rows = 0;
  fc.assert(
    fc.property(
      exporterArb,
      fc
        .uniqueArray(fc.constantFrom(...POOL), { maxLength: 20, selector: (e) => e.field })
        .chain((infos) =>
          fc.tuple(
            fc.constant(infos),
            fc.array(fc.tuple(...infos.map(valueArb)), { minLength: ROWS, maxLength: ROWS }),
          ),
        ),
      presenceArb,
      fc.array(rowArb, { minLength: ROWS, maxLength: ROWS }),
      (exporter, [infos, valueRows], presence, rowList) => {
        // One layout object per run, as one template gives: its IPv4 flags from the
        // first row (a decoder's flags are the template's).
        const first = valueRows[0] ?? [];
        const layout: RecordLayout = {
          infos,
          ipv4: Uint8Array.from(infos, (_, i) => (first[i]?.ipv4 ? 1 : 0)),
        };
        for (let i = 0; i < ROWS; i++) {
          const values = (valueRows[i] ?? []).map((v, j) =>
            // Keep every row's IPv4 flags as the layout has them.
            layout.ipv4[j] === 1
              ? typeof v.value === 'number' && v.ipv4
                ? v.value
                : 0x0a000001
              : v.ipv4
                ? ip(v.value as number)
                : v.value,
          );
          const r = recordOf(
            layout,
            values,
            presence,
            rowList[i] as Row,
            rowList[0] as Row,
            exporter,
          );
          const want = outcome(() => serializeDocumentReference(toDocumentReference(r)));
          // A buffer of its own, small and partly filled: the document meets its end
          // (and the buffer grows) at a different point in every row.
          const out = new JsonOut(16 + ((rows * 37) % 1500));
          const prefix = 'x'.repeat((rows * 13) % 300);
          writeRaw(out, prefix);
          const start = out.pos;
          if (writeCompiledDocument(out, r)) {
            compiled++;
            assert.equal(out.text(start), want, `row ${i}: generated writer`);
            assert.equal(out.text().slice(0, start), prefix, `row ${i}: bytes before kept`);
          } else assert.equal(out.pos, start, `row ${i}: nothing written when declined`);
          assert.equal(
            outcome(() => documentText(r)),
            want,
            `row ${i}: documentText`,
          );
          rows++;
        }
      },
    ),
    { numRuns: 120 },
  );
  if (!canGenerateCode()) {
    // --disallow-code-generation-from-strings (no-codegen.test.ts): the general writer.
    assert.equal(compiled, 0);
    return;
  }
  // Rows after the first 64 of a layout take the generated path unless they decline (a
  // time that is no date) or their shape is past the bound of segments kept (this test
  // draws far more shapes than exporters send).
  assert.ok(compiled > rows / 5, `${compiled} of ${rows} rows by generated writers`);
});

test('each generated function stays small, whatever the shape and layout', () => {
  // Every member a shape can have, and a layout of 120 elements with long names.
  const all = Object.values(S).reduce((m, bit) => m | bit, 0) & ~(S.srcText | S.dstText | S.ipv6);
  const shapes = [all, all & ~S.icmp, (all & ~(S.src | S.dst)) | S.srcText | S.dstText | S.ipv6];
  const keys = Array.from(
    { length: 120 },
    (_, i) => new Text(`${i === 0 ? '' : ','}"${'element_with_a_long_name_'.repeat(4)}${i}":`),
  );
  const layout = {
    keys,
    isDate: keys.map((_, i) => i % 5 === 1),
    isIpv4: keys.map((_, i) => i % 5 === 2),
  };
  for (const m of shapes) {
    const sources = generatedSources(m, layout);
    // head, ends, network, tail, then the members in pieces.
    assert.ok(sources.length >= 4 + 10, `${sources.length} functions`);
    for (const s of sources) assert.ok(s.length < 8000, `a function of ${s.length} characters`);
  }
});
