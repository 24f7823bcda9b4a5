import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PCAPS_DIR } from '@sluice/testkit';
import fc from 'fast-check';
import { datagramsFromCaptures } from '../ingest/capture-source.js';
import {
  type ElementInfo,
  enterpriseElements,
  ianaElements,
  netflowV9Elements,
} from '../protocol/ipfix/registry/index.js';
import type { FieldValue, FlowField } from '../protocol/templates/types.js';
import { communityId } from './community-id.js';
import { FlowDecoder } from './decoder.js';
import { documentText, serializeDocument, toDocument } from './document.js';
import {
  communityIdReference,
  serializeDocumentReference,
  toDocumentReference,
} from './document-reference.test-helpers.js';
import type { ExporterInfo, ExportVersion, FlowRecord } from './record.js';
import {
  SflowGatewayDoc,
  SflowHeaderDoc,
  SflowPortDoc,
  SflowRouterDoc,
  SflowSampleDoc,
  SflowSwitchDoc,
} from './sflow-extra.js';

// The contract of document.ts: for every record, both the direct writer and the object
// route give exactly the text of the original builder (document-reference.ts), byte for
// byte, and toDocument builds the same object. A throw counts as an outcome too: the
// original throws a RangeError when neither the flow's nor the arrival time is a date.

function outcome(f: () => string): string {
  try {
    return f();
  } catch (err) {
    return `threw ${err instanceof Error ? err.name : String(err)}`;
  }
}

function assertSame(r: FlowRecord, where: string): void {
  const want = outcome(() => serializeDocumentReference(toDocumentReference(r)));
  assert.equal(
    outcome(() => documentText(r)),
    want,
    `${where}: documentText`,
  );
  assert.equal(
    outcome(() => serializeDocument(toDocument(r))),
    want,
    `${where}: serializeDocument(toDocument)`,
  );
  if (!want.startsWith('threw')) {
    assert.deepStrictEqual(toDocument(r), toDocumentReference(r), `${where}: toDocument`);
  }
}

/** Template (and options template) captures first, so data finds its template. */
function captureFiles(dir: string): string[] {
  const names = readdirSync(dir).filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'));
  const first = names.filter((n) => n.includes('template'));
  return [...first.sort(), ...names.filter((n) => !n.includes('template')).sort()].map((n) =>
    join(dir, n),
  );
}

for (const format of ['netflow', 'sflow'] as const) {
  test(`documents of every akvorado ${format} capture equal the reference text`, () => {
    const decoder = new FlowDecoder();
    let records = 0;
    const dir = join(PCAPS_DIR, 'akvorado', format);
    for (const file of captureFiles(dir)) {
      let i = 0;
      for (const d of datagramsFromCaptures([file])) {
        for (const r of decoder.decode(d).records) {
          assertSame(r, `${file} datagram ${i}`);
          records++;
        }
        i++;
      }
    }
    assert.ok(records > 0, `${dir}: records decoded`);
  });
}

// Generated records: every field of FlowRecord, with the values exporters get wrong.

const ALL_ELEMENTS: readonly ElementInfo[] = [
  ...ianaElements(),
  ...enterpriseElements(),
  ...netflowV9Elements(),
];

/** Elements whose key the object route places specially (or that need escaping). */
const ODD_ELEMENTS: readonly ElementInfo[] = ['type', 'exporter', '42', '__proto__', 'a"b\\c'].map(
  (field, i) => ({ enterprise: 99, id: i, name: field, field, type: 'unsigned32' }),
);

const elementArb = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...ALL_ELEMENTS) },
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      ...ALL_ELEMENTS.filter((e) => e.type.startsWith('dateTime') || e.type === 'octetArray'),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_ELEMENTS) },
);

const numberArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 1.5e-7, 2 ** 53),
);

/** ms timestamps: plausible ones, fractional ones, and ones no date can hold. */
const timeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 253_402_300_799_999 }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 253_402_300_799_999, noNaN: true }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(-1, -0.5, 253_402_300_800_000, 8.64e15, 8.64e15 + 1, Number.NaN),
  },
);

const valueArb: fc.Arbitrary<FieldValue> = fc.oneof(
  numberArb,
  timeArb,
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n }),
  fc.string({ unit: 'binary' }),
  fc.ipV4(),
  fc.ipV6(),
  fc.boolean(),
  fc.uint8Array({ maxLength: 40 }),
);

const fieldArb: fc.Arbitrary<FlowField> = fc.record({ info: elementArb, value: valueArb });

/** Fields with repeats (an element sent twice becomes a JSON array). */
const fieldsArb = fc
  .array(fieldArb, { maxLength: 24 })
  .chain((fields) =>
    fields.length === 0
      ? fc.constant(fields)
      : fc
          .array(fc.tuple(fc.nat(fields.length - 1), valueArb), { maxLength: 3 })
          .map((extra) => [
            ...fields,
            ...extra.map(([i, value]) => ({ info: (fields[i] as FlowField).info, value })),
          ]),
  );

const addressArb = fc.oneof(
  { weight: 5, arbitrary: fc.ipV4() },
  { weight: 4, arbitrary: fc.ipV6() },
  // Forms the old parser accepted or refused in its own way (0x1.2.3.4, 010.1.1.1, ...).
  { weight: 2, arbitrary: fc.ipV4Extended() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '::',
      '0.0.0.0',
      '::ffff:1.2.3.4',
      '1::2:',
      ':::1',
      '1:::2',
      '1:2:3:4:5:6:7::',
      '1:2:3:4:5:6:7:8:9',
      '12345::1',
      'FE80::1',
      '1.2.3',
      '256.1.1.1',
      ' 1.2.3.4',
      '1e2.0.0.1',
      '1.2.3.256',
      '1.2.3.4.5',
      '1.2.3.04',
      '::1.2.3.4',
      '1::2::3',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme' }) },
);

const macArb = fc.oneof(
  fc
    .uint8Array({ minLength: 6, maxLength: 6 })
    .map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')),
  fc.string({ unit: 'grapheme-ascii' }),
);

/** Every place a sampling rate can come from. */
const samplingSourceArb = fc.constantFrom(
  'header' as const,
  'record' as const,
  'options' as const,
  'sample' as const,
  'config-default' as const,
  'config-override' as const,
);

function opt<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

/** Drops the members an arbitrary left undefined: optional members are absent. */
function present<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

const exporterRaw = fc.record({
  address: addressArb,
  port: opt(fc.integer({ min: 0, max: 65535 })),
  protocol: fc.constantFrom('netflow' as const, 'sflow' as const),
  version: fc.constantFrom<ExportVersion>(1, 2, 4, 5, 7, 9, 10),
  domain: fc.nat(),
  sequence: fc.nat(),
  uptimeMs: opt(fc.nat()),
  exportTimeMs: opt(timeArb),
  agent: opt(addressArb),
});
const exporterArb: fc.Arbitrary<ExporterInfo> = exporterRaw.map(
  (e) => present(e) as unknown as ExporterInfo,
);

/**
 * A member of the sFlow producer's fixed-shape classes (sflow-extra.ts): what it makes
 * (numbers, strings, booleans) mostly, and now and then a value changed to anything.
 */
const classMemberArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 40, arbitrary: fc.nat() },
  { weight: 2, arbitrary: numberArb },
  { weight: 1, arbitrary: fc.constantFrom('single', 'discarded', 'multiple', 'a"\\b\u00e9') },
  { weight: 1, arbitrary: fc.boolean() },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant(undefined),
      fc.bigInt(),
      fc.jsonValue(),
      fc.anything({ withBigInt: true, withDate: true, withTypedArray: true }),
      fc.constant(() => 1),
    ),
  },
);

/** Assigns generated values to an instance's members (the instances are sealed). */
function withMembers<T extends object>(target: T, values: Record<string, unknown>): T {
  Object.assign(target, values);
  return target;
}

const portArb = fc
  .record({
    format: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('single', 'discarded', 'multiple', 'é"\\') },
      { weight: 1, arbitrary: classMemberArb },
    ),
    value: classMemberArb,
  })
  .map((v) => withMembers(new SflowPortDoc('single', 0), v));

/** sFlow extras as the producer makes them: the fixed-shape classes beside plain data. */
const classExtrasArb = fc
  .record({
    sample: fc.record({
      sequence: classMemberArb,
      source_id_type: classMemberArb,
      source_id_index: classMemberArb,
      sampling_rate: classMemberArb,
      sample_pool: classMemberArb,
      drops: classMemberArb,
      input: fc.oneof({ weight: 8, arbitrary: portArb }, { weight: 1, arbitrary: classMemberArb }),
      output: fc.oneof({ weight: 8, arbitrary: portArb }, { weight: 1, arbitrary: classMemberArb }),
      expanded: fc.oneof(
        { weight: 8, arbitrary: fc.boolean() },
        { weight: 1, arbitrary: classMemberArb },
      ),
    }),
    header: opt(
      fc.record({
        protocol: classMemberArb,
        frame_length: classMemberArb,
        stripped: classMemberArb,
        length: classMemberArb,
      }),
    ),
    ttl: opt(fc.nat(255)),
    switch: opt(
      fc.record({
        src_vlan: classMemberArb,
        src_priority: classMemberArb,
        dst_vlan: classMemberArb,
        dst_priority: classMemberArb,
      }),
    ),
    router: opt(
      fc.record({
        next_hop: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(undefined), classMemberArb),
        src_mask_len: classMemberArb,
        dst_mask_len: classMemberArb,
      }),
    ),
    gateway: opt(
      fc.record({
        next_hop: fc.oneof(fc.ipV4(), fc.constant(undefined), classMemberArb),
        as: classMemberArb,
        src_as: classMemberArb,
        src_peer_as: classMemberArb,
        as_path: fc.oneof(
          { weight: 8, arbitrary: fc.array(fc.record({ asns: fc.array(fc.nat()) })) },
          { weight: 1, arbitrary: classMemberArb },
        ),
        communities: fc.oneof(
          { weight: 8, arbitrary: fc.array(fc.nat()) },
          { weight: 1, arbitrary: classMemberArb },
        ),
        local_pref: classMemberArb,
      }),
    ),
    extra: opt(fc.jsonValue()),
  })
  .map((x) => {
    const sample = withMembers(
      new SflowSampleDoc(
        0,
        0,
        0,
        0,
        0,
        0,
        new SflowPortDoc('single', 0),
        new SflowPortDoc('single', 0),
        false,
      ),
      x.sample,
    );
    const out: Record<string, unknown> = { sample };
    if (x.header !== undefined) out.header = withMembers(new SflowHeaderDoc(0, 0, 0, 0), x.header);
    if (x.ttl !== undefined) out.ttl = x.ttl;
    if (x.switch !== undefined) out.switch = withMembers(new SflowSwitchDoc(0, 0, 0, 0), x.switch);
    if (x.gateway !== undefined)
      out.gateway = withMembers(new SflowGatewayDoc(undefined, 0, 0, 0, [], [], 0), x.gateway);
    if (x.router !== undefined)
      out.router = withMembers(new SflowRouterDoc(undefined, 0, 0), x.router);
    if (x.extra !== undefined) out.extra = x.extra;
    return out;
  });

/** sFlow extras: plain data mostly, and now and then values JSON renders its own way. */
const extraArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.dictionary(
      fc.string(),
      fc.jsonValue().map((v) => v as unknown),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      sample: fc.record({
        sequence: fc.nat(),
        sampling_rate: fc.nat(),
        input: fc.record({ format: fc.constantFrom('single', 'discard'), value: fc.nat() }),
      }),
      counters: fc.dictionary(
        fc.string(),
        fc.dictionary(
          fc.string(),
          fc.oneof(fc.bigInt(), numberArb, fc.string(), fc.constant(undefined)),
        ),
      ),
      vlan_ids: fc.array(fc.nat(4095)),
      header: opt(fc.record({ protocol: fc.nat(), stripped: fc.nat() })),
    }),
  },
  { weight: 4, arbitrary: classExtrasArb },
  {
    weight: 2,
    arbitrary: fc.dictionary(
      fc.string(),
      fc.anything({
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withTypedArray: true,
      }),
    ),
  },
);

const recordArb: fc.Arbitrary<FlowRecord> = fc
  .record({
    kind: fc.constantFrom('flow' as const, 'options' as const, 'counters' as const),
    exporter: exporterArb,
    receivedMs: fc.oneof({ weight: 10, arbitrary: timeArb }, { weight: 1, arbitrary: fc.double() }),
    startMs: opt(timeArb),
    endMs: opt(timeArb),
    srcAddr: opt(addressArb),
    dstAddr: opt(addressArb),
    srcPort: opt(fc.integer({ min: 0, max: 65535 })),
    dstPort: opt(fc.integer({ min: 0, max: 65535 })),
    protocol: opt(fc.oneof(fc.constantFrom(1, 6, 17, 58, 132, 47), fc.nat(300))),
    ipVersion: opt(fc.constantFrom(4 as const, 6 as const)),
    bytes: opt(numberArb),
    packets: opt(numberArb),
    reverseBytes: opt(numberArb),
    reversePackets: opt(numberArb),
    srcMac: opt(macArb),
    dstMac: opt(macArb),
    vlan: opt(fc.nat(4095)),
    innerVlan: opt(fc.nat(4095)),
    inInterface: opt(numberArb),
    outInterface: opt(numberArb),
    srcAs: opt(numberArb),
    dstAs: opt(numberArb),
    icmpType: opt(fc.nat(255)),
    icmpCode: opt(fc.nat(255)),
    direction: opt(fc.constantFrom('ingress' as const, 'egress' as const, 'unknown' as const)),
    samplingRate: opt(numberArb),
    samplingSource: opt(samplingSourceArb),
    fields: fieldsArb,
    extra: opt(extraArb),
  })
  // Optional members absent rather than undefined, as the producers leave them.
  .map((r) => present(r) as unknown as FlowRecord);

test('documents of generated records equal the reference text', () => {
  fc.assert(
    fc.property(recordArb, (r) => {
      assertSame(r, 'generated record');
    }),
    { numRuns: 5000 },
  );
});

/** An address as its number and the text the producer gives it (dotted decimal). */
const ipv4Arb = fc.nat(0xffffffff).map((n) => ({
  n,
  text: `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`,
}));

/** Counters as decoders give them, and the values near and past the plain-digit range. */
const counterArb = fc.oneof(
  { weight: 10, arbitrary: fc.nat(0xffffffff) },
  { weight: 3, arbitrary: fc.maxSafeInteger() },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      -0,
      2 ** 32,
      2 ** 53 - 1,
      2 ** 53,
      2 ** 53 + 2,
      2 ** 60,
      1.5,
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ),
  },
  { weight: 1, arbitrary: numberArb },
);

/**
 * Records as the NetFlow producer makes them: IPv4 addresses as numbers (srcIpv4,
 * dstIpv4) beside their text, which the writer writes from the number, and integer
 * counters, with MACs, VLANs, ICMP, IPv6 and counters past 2^53 now and then.
 */
const fastShapeArb: fc.Arbitrary<FlowRecord> = fc
  .record({
    kind: fc.constantFrom('flow' as const),
    exporter: exporterArb,
    receivedMs: timeArb,
    startMs: opt(timeArb),
    endMs: opt(timeArb),
    src: ipv4Arb,
    dst: fc.oneof(
      { weight: 8, arbitrary: ipv4Arb },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    srcPort: opt(
      fc.oneof({ weight: 8, arbitrary: fc.nat(65535) }, { weight: 1, arbitrary: counterArb }),
    ),
    dstPort: opt(
      fc.oneof({ weight: 8, arbitrary: fc.nat(65535) }, { weight: 1, arbitrary: counterArb }),
    ),
    protocol: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(6, 17, 47, 132, 0, 255) },
      { weight: 2, arbitrary: fc.nat(255) },
      { weight: 1, arbitrary: fc.constantFrom(1, 58, 256, -1, 6.5) },
    ),
    ipVersion: opt(
      fc.oneof(
        { weight: 8, arbitrary: fc.constant(4 as const) },
        { weight: 1, arbitrary: fc.constant(6 as const) },
      ),
    ),
    bytes: opt(counterArb),
    packets: opt(counterArb),
    reverseBytes: opt(counterArb),
    reversePackets: opt(counterArb),
    srcMac: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: macArb },
    ),
    vlan: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.nat(4095) },
    ),
    inInterface: opt(fc.nat(0xffff)),
    outInterface: opt(fc.nat(0xffff)),
    srcAs: opt(counterArb),
    dstAs: opt(counterArb),
    direction: opt(fc.constantFrom('ingress' as const, 'egress' as const, 'unknown' as const)),
    samplingRate: opt(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(0, 1, 2, 100, 1024, 65535) },
        { weight: 1, arbitrary: counterArb },
      ),
    ),
    samplingSource: opt(samplingSourceArb),
    sameAddress: fc.boolean(),
  })
  .map(({ src, dst, sameAddress, ...rest }) => {
    const to = sameAddress ? src : dst;
    const r: Record<string, unknown> = {
      ...rest,
      fields: [],
      srcAddr: src.text,
      srcIpv4: src.n,
    };
    if (to !== undefined) {
      r.dstAddr = to.text;
      r.dstIpv4 = to.n;
    }
    return present(r) as unknown as FlowRecord;
  });

test('records with IPv4 addresses as numbers and integer counters equal the reference text', () => {
  fc.assert(
    fc.property(fastShapeArb, (r) => {
      assertSame(r, 'IPv4-number record');
    }),
    { numRuns: 5000 },
  );
});

test('records sharing a layout and an exporter (the cached paths) equal the reference', () => {
  fc.assert(
    fc.property(
      exporterArb,
      fc.array(fieldArb, { minLength: 1, maxLength: 12 }),
      fc.array(fc.tuple(fc.array(valueArb, { minLength: 12, maxLength: 12 }), timeArb), {
        minLength: 2,
        maxLength: 6,
      }),
      (exporter, layout, rows) => {
        for (const [values, endMs] of rows) {
          const r: FlowRecord = {
            kind: 'flow',
            exporter,
            receivedMs: 1_700_000_000_000,
            endMs,
            fields: layout.map((f, i) => ({ info: f.info, value: values[i] as FieldValue })),
          };
          assertSame(r, 'shared layout');
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('layouts written often enough to get a generated writer equal the reference', () => {
  // document-writer.ts generates a layout's `netflow.*` writer after 64 records of it:
  // 100 records per layout cross that line, so the generated code writes the last ones.
  const rows = 100;
  fc.assert(
    fc.property(
      exporterArb,
      fc.uniqueArray(elementArb, { minLength: 1, maxLength: 10, selector: (e) => e.field }),
      fc.array(valueArb, { minLength: rows * 10, maxLength: rows * 10 }),
      fc.array(timeArb, { minLength: rows, maxLength: rows }),
      (exporter, layout, values, ends) => {
        for (let row = 0; row < rows; row++) {
          const r: FlowRecord = {
            kind: 'flow',
            exporter,
            receivedMs: 1_700_000_000_000,
            endMs: ends[row] as number,
            fields: layout.map((info, i) => ({
              info,
              value: values[row * 10 + i] as FieldValue,
            })),
          };
          assertSame(r, `generated writer, row ${row}`);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('an exporter changed in place is not served from the cache', () => {
  const exporter = {
    address: '192.0.2.1',
    port: 2055,
    protocol: 'netflow' as const,
    version: 9 as const,
    domain: 1,
    sequence: 1,
    uptimeMs: 10,
    exportTimeMs: 1_700_000_000_000,
  };
  const r: FlowRecord = { kind: 'flow', exporter, receivedMs: 1_700_000_000_000, fields: [] };
  assertSame(r, 'first');
  exporter.sequence = 2;
  assertSame(r, 'after the sequence changed');
});

test('Community ID equals the original function on generated tuples', () => {
  const tupleArb = fc.record({
    srcAddr: addressArb,
    dstAddr: addressArb,
    protocol: fc.oneof(fc.constantFrom(1, 6, 17, 58, 132), fc.nat(300)),
    srcPort: opt(fc.integer({ min: 0, max: 65535 })),
    dstPort: opt(fc.integer({ min: 0, max: 65535 })),
    icmpType: opt(fc.nat(255)),
    icmpCode: opt(fc.nat(255)),
  });
  fc.assert(
    fc.property(tupleArb, fc.nat(0xffff), (t, seed) => {
      assert.equal(communityId(t, seed), communityIdReference(t, seed));
      assert.equal(communityId(t), communityIdReference(t));
    }),
    { numRuns: 20000 },
  );
});
