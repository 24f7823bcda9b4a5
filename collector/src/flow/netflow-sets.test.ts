import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Bytes,
  type FieldSpec,
  ipfixMessage,
  ipfixTemplateRecord,
  set,
  v9OptionsTemplateRecord,
  v9Packet,
  v9TemplateRecord,
} from '../../test/support/wire.js';
import { decodeIpfix } from '../protocol/ipfix/ipfix.js';
import type { DecodeInput, ExportResult } from '../protocol/netflow/result.js';
import { decodeNetflowV9 } from '../protocol/netflow/v9.js';
import { TemplateStore } from '../protocol/templates/store.js';
import { FlowDecoder } from './decoder.js';
import { NetflowProducer } from './netflow-producer.js';
import { setProducerOf } from './netflow-sets.js';
import type { FlowRecord } from './record.js';
import { assertSameNetflowRecord, canGenerateCode } from './record-members.test-helpers.js';
import { MAX_POOLED } from './record-pool.js';
import { type SamplingConfig, SamplingRates } from './sampling.js';

// Data sets of fixed-length templates read straight into flow records by generated code
// (netflow-sets.ts, what FlowDecoder does) against the general path on the same
// packets: the decoder's DataRecords lifted by the producer. Templates are drawn from
// elements of every action the producer knows (addresses of both families and as
// text, counters of every length, every kind of time, totals, durations, ICMP
// elements, sampler ids and rates, direction, MACs, RFC 5103 reverse counters,
// elements it skips), repeated elements included, with any bytes as values; packets
// mix those sets with variable-length data sets (left to the general path) and options
// data that teaches a sampling rate before or after the data. Both paths must give
// equal records (every member, values, fields, address text) in the same order and
// byte-identical documents.

const EXPORTER = '192.0.2.44';
const PORT = 4739;
const RECEIVED_MS = 1_700_000_100_000;

/** Elements of both formats, at the lengths exporters send (reduced-size ones too). */
const COMMON: readonly FieldSpec[] = [
  { id: 8, length: 4 }, // sourceIPv4Address
  { id: 12, length: 4 }, // destinationIPv4Address
  { id: 15, length: 4 }, // ipNextHopIPv4Address
  { id: 225, length: 4 }, // postNATSourceIPv4Address (skipped by the producer)
  { id: 27, length: 16 }, // sourceIPv6Address
  { id: 28, length: 16 }, // destinationIPv6Address
  { id: 62, length: 16 }, // ipNextHopIPv6Address
  { id: 7, length: 2 }, // sourceTransportPort
  { id: 11, length: 2 }, // destinationTransportPort
  { id: 4, length: 1 }, // protocolIdentifier
  { id: 5, length: 1 }, // ipClassOfService
  { id: 6, length: 1 }, // tcpControlBits
  { id: 6, length: 2 },
  { id: 10, length: 2 }, // ingressInterface
  { id: 14, length: 4 }, // egressInterface
  { id: 1, length: 4 }, // octetDeltaCount
  { id: 1, length: 8 },
  { id: 2, length: 8 }, // packetDeltaCount
  { id: 2, length: 2 },
  { id: 85, length: 8 }, // octetTotalCount
  { id: 86, length: 4 }, // packetTotalCount
  { id: 16, length: 4 }, // bgpSourceAsNumber
  { id: 17, length: 2 }, // bgpDestinationAsNumber
  { id: 9, length: 1 }, // sourceIPv4PrefixLength
  { id: 13, length: 1 }, // destinationIPv4PrefixLength
  { id: 56, length: 6 }, // sourceMacAddress
  { id: 80, length: 6 }, // destinationMacAddress
  { id: 58, length: 2 }, // vlanId
  { id: 245, length: 2 }, // dot1qCustomerVlanId
  { id: 61, length: 1 }, // flowDirection
  { id: 32, length: 2 }, // icmpTypeCodeIPv4
  { id: 139, length: 2 }, // icmpTypeCodeIPv6
  { id: 176, length: 1 }, // icmpTypeIPv4
  { id: 177, length: 1 }, // icmpCodeIPv4
  { id: 22, length: 4 }, // flowStartSysUpTime
  { id: 21, length: 4 }, // flowEndSysUpTime
  { id: 150, length: 4 }, // flowStartSeconds
  { id: 153, length: 8 }, // flowEndMilliseconds
  { id: 152, length: 8 }, // flowStartMilliseconds
  { id: 154, length: 8 }, // flowStartMicroseconds
  { id: 157, length: 8 }, // flowEndNanoseconds
  { id: 158, length: 4 }, // flowStartDeltaMicroseconds
  { id: 159, length: 4 }, // flowEndDeltaMicroseconds
  { id: 161, length: 4 }, // flowDurationMilliseconds
  { id: 162, length: 4 }, // flowDurationMicroseconds
  { id: 48, length: 1 }, // samplerId
  { id: 302, length: 4 }, // selectorId
  { id: 34, length: 4 }, // samplingInterval
  { id: 305, length: 8 }, // samplingPacketInterval
  { id: 82, length: 8 }, // interfaceName, a fixed-length string
  { id: 999, length: 3 }, // unassigned: kept raw
];

/** IPFIX only: enterprise elements (RFC 5103 reverse counters, a vendor's). */
const IPFIX_ONLY: readonly FieldSpec[] = [
  { id: 1, length: 8, enterprise: 29305 }, // reverse octetDeltaCount
  { id: 2, length: 4, enterprise: 29305 }, // reverse packetDeltaCount
  { id: 7, length: 2, enterprise: 29305 }, // reverse sourceTransportPort (skipped)
  { id: 12235, length: 4, enterprise: 9 }, // a Cisco element
];

const IPV4_IDS = new Set([8, 12, 15, 225]);
const TIME_IDS = new Set([22, 21, 150, 152, 153, 154, 157]);

/** A field's bytes, drawn so the lifted facts vary (protocols with rules, plausible times). */
function valueArb(f: FieldSpec): fc.Arbitrary<number[]> {
  const bytes = (n: number) => fc.array(fc.nat(255), { minLength: n, maxLength: n });
  const u32 = (a: fc.Arbitrary<number>) => a.map((n) => [...new Bytes().u32(n).bytes()]);
  if (f.enterprise === undefined && IPV4_IDS.has(f.id)) {
    return fc.oneof(u32(fc.nat(0xffffffff)), u32(fc.constantFrom(0, 0xffffffff)));
  }
  if (f.enterprise === undefined && f.id === 4) {
    return fc.constantFrom(1, 58, 6, 17, 132).map((p) => [p]);
  }
  if (f.enterprise === undefined && TIME_IDS.has(f.id) && f.length === 8) {
    // Mostly times near the export time, now and then any 8 bytes.
    const ms = fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 });
    const near = ms.map((v) => {
      const scaled =
        f.id === 154 ? BigInt(v) * 1000n : f.id === 157 ? BigInt(v) * 1_000_000n : BigInt(v);
      return [...new Bytes().u64(scaled).bytes()];
    });
    return fc.oneof({ weight: 3, arbitrary: near }, { weight: 1, arbitrary: bytes(8) });
  }
  return bytes(f.length);
}

const v9LayoutArb = fc.array(fc.constantFrom(...COMMON), { minLength: 1, maxLength: 24 });
const ipfixLayoutArb = fc.array(fc.constantFrom(...COMMON, ...IPFIX_ONLY), {
  minLength: 1,
  maxLength: 24,
});

/** What one case sends: a layout, its records over a few packets, sampling around them. */
function caseArb(layoutArb: fc.Arbitrary<FieldSpec[]>) {
  return layoutArb.chain((layout) =>
    fc.record({
      layout: fc.constant(layout),
      packets: fc.array(
        fc.array(fc.tuple(...layout.map(valueArb)), { minLength: 0, maxLength: 12 }),
        { minLength: 1, maxLength: 4 },
      ),
      /** Options data with a sampling rate: none, before the data or after it. */
      options: fc.constantFrom('none', 'before', 'after'),
      sampler: fc.nat(3),
      rate: fc.integer({ min: 1, max: 5000 }),
      /** A variable-length data set (general path) before or after the fixed ones. */
      varlen: fc.constantFrom('none', 'before', 'after'),
      /** Bytes after the last record of a set: padding shorter than a record. */
      padding: fc.nat(3),
      sampling: fc.record(
        {
          defaultRate: fc.integer({ min: 1, max: 4096 }),
          overrides: fc.constant(new Map([[EXPORTER, 100]])),
        },
        { requiredKeys: [] },
      ),
    }),
  );
}

type Case = typeof caseArb extends (a: never) => fc.Arbitrary<infer C> ? C : never;

const DATA_ID = 300;
const VARLEN_ID = 301;
const OPTIONS_ID = 302;
const VARLEN_FIELDS: FieldSpec[] = [
  { id: 8, length: 4 },
  { id: 2, length: 4 },
  { id: 82, length: 0xffff },
];
/** Sampling options: samplerId (48) as the option's key, samplingInterval (34). */
const OPTION_FIELDS: FieldSpec[] = [
  { id: 48, length: 1 },
  { id: 34, length: 4 },
];

function dataSet(c: Case, rows: readonly number[][][]): Uint8Array {
  const b = new Bytes();
  for (const row of rows) for (const v of row) b.raw(v);
  // Padding shorter than one record (every record here is at least 1 byte).
  const recordLength = c.layout.reduce((n, f) => n + f.length, 0);
  b.raw(new Array(Math.min(c.padding, recordLength - 1)).fill(0));
  return set(DATA_ID, b.bytes());
}

function varlenSet(): Uint8Array {
  const b = new Bytes().ip4('198.51.100.7').u32(12).u8(4).text('eth0');
  return set(VARLEN_ID, b.bytes());
}

function optionsData(c: Case): Uint8Array {
  return set(OPTIONS_ID, new Bytes().u8(c.sampler).u32(c.rate).bytes());
}

/** The sets of packet `p`: templates in the first, data sets in every one. */
function packetSets(c: Case, p: number, ipfix: boolean): Uint8Array[] {
  const sets: Uint8Array[] = [];
  if (p === 0) {
    if (ipfix) {
      sets.push(
        set(2, ipfixTemplateRecord(DATA_ID, c.layout)),
        set(2, ipfixTemplateRecord(VARLEN_ID, VARLEN_FIELDS)),
        set(3, ipfixTemplateRecord(OPTIONS_ID, OPTION_FIELDS, 1)),
      );
    } else {
      sets.push(
        set(0, v9TemplateRecord(DATA_ID, c.layout)),
        set(0, v9TemplateRecord(VARLEN_ID, VARLEN_FIELDS.slice(0, 2))),
        set(1, v9OptionsTemplateRecord(OPTIONS_ID, [{ id: 2, length: 4 }], OPTION_FIELDS)),
      );
    }
  }
  const rows = c.packets[p] as number[][][];
  if (c.options === 'before') sets.push(ipfix ? optionsData(c) : v9Options(c));
  if (c.varlen === 'before') sets.push(ipfix ? varlenSet() : v9Varlen());
  // The records in two sets when there are enough: two unread sets in one packet.
  const half = rows.length > 4 ? Math.floor(rows.length / 2) : rows.length;
  sets.push(dataSet(c, rows.slice(0, half)));
  if (half < rows.length) sets.push(dataSet(c, rows.slice(half)));
  if (c.varlen === 'after') sets.push(ipfix ? varlenSet() : v9Varlen());
  if (c.options === 'after') sets.push(ipfix ? optionsData(c) : v9Options(c));
  return sets;
}

/** v9 has no variable-length fields: its other set is a second fixed-length template's. */
function v9Varlen(): Uint8Array {
  return set(VARLEN_ID, new Bytes().ip4('198.51.100.7').u32(12).bytes());
}

/** v9 options data: the scope (System, 4 bytes), then samplerId and samplingInterval. */
function v9Options(c: Case): Uint8Array {
  return set(OPTIONS_ID, new Bytes().u32(1).u8(c.sampler).u32(c.rate).bytes());
}

function inputOf(store: TemplateStore, defer: boolean): DecodeInput {
  return { exporter: EXPORTER, receivedMs: RECEIVED_MS, store, deferFixedSets: defer };
}

function assertSameRecords(got: readonly FlowRecord[], want: readonly FlowRecord[], where: string) {
  assert.equal(got.length, want.length, `${where}: records`);
  for (const [i, r] of got.entries()) {
    assertSameNetflowRecord(r, want[i] as FlowRecord, `${where} record ${i}`);
  }
}

function runCase(
  c: Case,
  ipfix: boolean,
  decode: (b: Uint8Array, i: DecodeInput) => ExportResult,
  sampling: SamplingConfig,
): void {
  const fusedStore = new TemplateStore();
  const generalStore = new TemplateStore();
  // The fused producer generates a layout's code at its first set (0 records before).
  const fused = new NetflowProducer(new SamplingRates(sampling), 0);
  const general = new NetflowProducer(new SamplingRates(sampling));
  // A producer that recycles its records: each packet's are checked before the next,
  // against records of a general producer of their own (a comparison fills the lazy
  // members of the records it reads).
  const recycledStore = new TemplateStore();
  const recycling = new NetflowProducer(new SamplingRates(sampling), 0, true);
  const referenceStore = new TemplateStore();
  const reference = new NetflowProducer(new SamplingRates(sampling));
  for (let p = 0; p < c.packets.length; p++) {
    const sets = packetSets(c, p, ipfix);
    const bytes = ipfix
      ? ipfixMessage(sets, { sequence: p * 40 })
      : v9Packet(sets, { sequence: p, sourceId: 7 });
    const a = decode(bytes, inputOf(fusedStore, true));
    const b = decode(bytes, inputOf(generalStore, false));
    assert.deepEqual(a.issues, b.issues, `packet ${p}: issues`);
    assert.equal(a.sequenceIncrement, b.sequenceIncrement, `packet ${p}: sequence increment`);
    assert.equal(b.sets, undefined);
    // Every data set of the layout is left unread, and has generated code to read it
    // (without code generation there is no generated reader: nothing is left unread).
    const rows = canGenerateCode() ? (c.packets[p] as unknown[]).length : 0;
    const ours = a.sets?.filter((s) => s.template.id === DATA_ID) ?? [];
    assert.equal(
      ours.reduce((n, s) => n + s.count, 0),
      rows,
      `packet ${p}: unread`,
    );
    for (const s of a.sets ?? []) assert.ok(setProducerOf(s, 0), `packet ${p}: code`);
    const where = `${ipfix ? 'IPFIX' : 'v9'} packet ${p}`;
    assertSameRecords(fused.produce(a, PORT), general.produce(b, PORT), where);
    const again = recycling.produce(decode(bytes, inputOf(recycledStore, true)), PORT);
    const want = reference.produce(decode(bytes, inputOf(referenceStore, false)), PORT);
    assertSameRecords(again, want, `${where}, recycled`);
  }
}

test('v9 data sets read by generated code equal the general path, documents byte for byte', () => {
  fc.assert(
    fc.property(caseArb(v9LayoutArb), (c) => runCase(c, false, decodeNetflowV9, c.sampling)),
    { numRuns: 250 },
  );
});

test('IPFIX data sets read by generated code equal the general path, documents byte for byte', () => {
  fc.assert(
    fc.property(caseArb(ipfixLayoutArb), (c) => runCase(c, true, decodeIpfix, c.sampling)),
    { numRuns: 250 },
  );
});

test('FlowDecoder gives the same records before and after a layout gets its generated code (64 records)', () => {
  const layout: FieldSpec[] = [
    { id: 8, length: 4 },
    { id: 12, length: 4 },
    { id: 4, length: 1 },
    { id: 2, length: 4 },
    { id: 152, length: 8 },
  ];
  const decoder = new FlowDecoder();
  const generalStore = new TemplateStore();
  const general = new NetflowProducer(new SamplingRates());
  for (let p = 0; p < 10; p++) {
    const data = new Bytes();
    for (let i = 0; i < 10; i++) {
      data
        .u32(0x0a000000 + p * 16 + i)
        .u32(0xc0000201)
        .u8(i % 2 ? 6 : 1);
      data.u32(p * 10 + i).u64(1_700_000_000_000n + BigInt(i));
    }
    const sets = [set(DATA_ID, data.bytes())];
    if (p === 0) sets.unshift(set(2, ipfixTemplateRecord(DATA_ID, layout)));
    const bytes = ipfixMessage(sets, { sequence: p * 10 });
    const out = decoder.decode({
      bytes,
      exporter: EXPORTER,
      exporterPort: PORT,
      receivedMs: RECEIVED_MS,
    });
    assert.deepEqual(out.issues, []);
    const want = general.produce(decodeIpfix(bytes, inputOf(generalStore, false)), PORT);
    assert.equal(want.length, 10);
    assertSameRecords(out.records, want, `packet ${p}`);
  }
});

test('a recycling producer makes the records of one produce() again in the next, at most MAX_POOLED', () => {
  // Records of every kind of content in turn (ICMP or not, times or none, addresses or
  // not) through the same objects: nothing of a record's last use may remain.
  const layouts: FieldSpec[][] = [
    [
      { id: 8, length: 4 },
      { id: 12, length: 4 },
      { id: 4, length: 1 },
      { id: 11, length: 2 },
      { id: 2, length: 4 },
      { id: 153, length: 8 },
    ],
    [
      { id: 4, length: 1 },
      { id: 1, length: 4 },
    ],
  ];
  const store = new TemplateStore();
  const generalStore = new TemplateStore();
  const recycling = new NetflowProducer(new SamplingRates(), 0, true);
  const general = new NetflowProducer(new SamplingRates());
  const kept: FlowRecord[][] = [];
  for (let p = 0; p < 6; p++) {
    const layout = layouts[p % 2] as FieldSpec[];
    const id = DATA_ID + (p % 2);
    const rows = p === 4 ? MAX_POOLED + 5 : 20 + p;
    const data = new Bytes();
    for (let i = 0; i < rows; i++) {
      for (const f of layout) {
        if (f.id === 4) data.u8(i % 3 === 0 ? 1 : 6);
        else if (f.id === 153) data.u64(1_700_000_000_000n + BigInt(i * p));
        else if (f.length === 4) data.u32(0x0a000000 + i * 7 + p);
        else if (f.length === 2) data.u16(0x0300 + i);
        else data.u8(i);
      }
    }
    const sets = [set(2, ipfixTemplateRecord(id, layout)), set(id, data.bytes())];
    const bytes = ipfixMessage(sets, { sequence: p * 2000 });
    const got = recycling.produce(decodeIpfix(bytes, inputOf(store, true)), PORT);
    const want = general.produce(decodeIpfix(bytes, inputOf(generalStore, false)), PORT);
    assertSameRecords(got, want, `packet ${p}`);
    kept.push(got);
  }
  const [first, second] = kept as [FlowRecord[], FlowRecord[]];
  if (canGenerateCode()) {
    // The second packet's records are the first one's objects, made again.
    assert.equal(second[0], first[0]);
    assert.equal(second[19], first[19]);
    // A datagram beyond the bound: the pool's records, then new ones, none kept after.
    const big = kept[4] as FlowRecord[];
    assert.equal(big[0], first[0]);
    const last = kept[5] as FlowRecord[];
    assert.notEqual(big[MAX_POOLED], undefined);
    assert.ok(!last.includes(big[MAX_POOLED] as FlowRecord), 'records past the bound are not kept');
  }
});

test('without recycling, no record of one produce() is made again by the next', () => {
  const layout: FieldSpec[] = [
    { id: 8, length: 4 },
    { id: 2, length: 4 },
  ];
  const store = new TemplateStore();
  const producer = new NetflowProducer(new SamplingRates(), 0);
  const seen = new Set<FlowRecord>();
  for (let p = 0; p < 3; p++) {
    const data = new Bytes();
    for (let i = 0; i < 10; i++) data.u32(0x0a000000 + i).u32(p * 10 + i);
    const sets = [set(2, ipfixTemplateRecord(DATA_ID, layout)), set(DATA_ID, data.bytes())];
    const records = producer.produce(
      decodeIpfix(ipfixMessage(sets, { sequence: p * 10 }), inputOf(store, true)),
      PORT,
    );
    assert.equal(records.length, 10);
    for (const r of records) {
      assert.ok(!seen.has(r));
      seen.add(r);
    }
  }
});

test('a layout of more fields than real templates have keeps the general path, with the same records', () => {
  // 300 fields: ports, protocol and counters over and over.
  const cycle: FieldSpec[] = [
    { id: 7, length: 2 },
    { id: 11, length: 2 },
    { id: 4, length: 1 },
    { id: 1, length: 4 },
    { id: 8, length: 4 },
  ];
  const layout = Array.from({ length: 300 }, (_, i) => cycle[i % cycle.length] as FieldSpec);
  const recordLength = layout.reduce((n, f) => n + f.length, 0);
  const data = new Bytes();
  for (let r = 0; r < 3; r++)
    for (let i = 0; i < recordLength; i++) data.u8((r * 31 + i * 7) & 0xff);
  const bytes = ipfixMessage([
    set(2, ipfixTemplateRecord(DATA_ID, layout)),
    set(DATA_ID, data.bytes()),
  ]);
  const a = decodeIpfix(bytes, inputOf(new TemplateStore(), true));
  const b = decodeIpfix(bytes, inputOf(new TemplateStore(), false));
  if (canGenerateCode()) assert.equal(a.sets?.[0]?.count, 3);
  for (const s of a.sets ?? []) assert.equal(setProducerOf(s, 0), undefined);
  const fused = new NetflowProducer(new SamplingRates(), 0);
  const general = new NetflowProducer(new SamplingRates());
  assertSameRecords(fused.produce(a, PORT), general.produce(b, PORT), 'IPFIX, 300 fields');
});
