import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Bytes } from '../../test/support/wire.js';
import {
  decodeNetflowLegacy,
  type FixedLayout,
  readNetflowLegacyHeader,
} from '../protocol/netflow/legacy.js';
import { TemplateStore } from '../protocol/templates/store.js';
import { type Datagram, FlowDecoder } from './decoder.js';
import { fixedProducerOf } from './netflow-fixed.js';
import { NetflowProducer } from './netflow-producer.js';
import type { FlowRecord } from './record.js';
import { assertSameNetflowRecord, canGenerateCode } from './record-members.test-helpers.js';
import { type SamplingConfig, SamplingRates } from './sampling.js';

// NetFlow v1/v5/v7 records made straight from the bytes (netflow-fixed.ts, what
// FlowDecoder does) against the general path on the same datagrams: the fixed-layout
// reader's values lifted by the producer's lifter, as every other format's records are.
// Every byte of every record is drawn, with the header's uptime, export time, sampling
// field and record count (more than fit, too), so each lifted member, the times around
// the uptime wrap and the ICMP rule are exercised; both must give equal records (every
// member, values, fields) and byte-identical documents.

const EXPORTER = '192.0.2.7';
const PORT = 2055;
const RECEIVED_MS = 1_700_000_100_000;

/** Bytes per record, and where its protocol byte is. */
const GEOMETRY = {
  1: { record: 48, protocolAt: 38 },
  5: { record: 48, protocolAt: 38 },
  7: { record: 52, protocolAt: 38 },
} as const;

type Version = keyof typeof GEOMETRY;

const u32 = fc.nat(0xffffffff);

/** A record's bytes, its protocol mostly one with a rule of its own (ICMP, ICMPv6). */
function recordArb(version: Version): fc.Arbitrary<Uint8Array> {
  const { record, protocolAt } = GEOMETRY[version];
  return fc
    .tuple(
      fc.uint8Array({ minLength: record, maxLength: record }),
      fc.option(fc.constantFrom(1, 58, 6, 17), { freq: 3 }),
    )
    .map(([bytes, protocol]) => {
      if (protocol !== null) bytes[protocolAt] = protocol;
      return bytes;
    });
}

const packetArb = fc.constantFrom<Version>(1, 5, 7).chain((version) =>
  fc.record({
    version: fc.constant(version),
    records: fc.array(recordArb(version), { maxLength: 35 }),
    // The header's count against the records there: equal, more (count_overflow), fewer.
    countDelta: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: -3, max: 3 })),
    /** Bytes of a last record cut short. */
    tail: fc.nat(GEOMETRY[version].record - 1),
    sysUptimeMs: fc.oneof(u32, fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff)),
    unixSecs: fc.oneof(fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }), u32),
    unixNsecs: u32,
    sequence: u32,
    engine: fc.nat(0xffff),
    sampling: fc.oneof(fc.constant(0), fc.nat(0xffff)),
    /** Now and then the datagram cut short, the header too (from 4 bytes, a version). */
    cut: fc.option(fc.integer({ min: 4, max: 80 }), { freq: 10 }),
    /** Where the datagram starts in a larger buffer (a decode worker's are recycled). */
    at: fc.nat(16),
  }),
);

type PacketFacts = typeof packetArb extends fc.Arbitrary<infer P> ? P : never;

function packetBytes(p: PacketFacts): Uint8Array {
  const count = Math.max(0, Math.min(0xffff, p.records.length + p.countDelta));
  const b = new Bytes().u16(p.version).u16(count).u32(p.sysUptimeMs).u32(p.unixSecs);
  b.u32(p.unixNsecs);
  if (p.version !== 1) b.u32(p.sequence);
  if (p.version === 5) b.u16(p.engine).u16(p.sampling);
  if (p.version === 7) b.u32(p.engine);
  for (const r of p.records) b.raw(r);
  b.raw(new Uint8Array(p.tail).fill(0xa5));
  const bytes = p.cut === null ? b.bytes() : b.bytes().subarray(0, p.cut);
  const around = new Uint8Array(p.at + bytes.length + 16).fill(0x5a);
  around.set(bytes, p.at);
  return around.subarray(p.at, p.at + bytes.length);
}

const samplingArb: fc.Arbitrary<SamplingConfig> = fc.record(
  {
    defaultRate: fc.integer({ min: 1, max: 4096 }),
    overrides: fc.constant(new Map([[EXPORTER, 100]])),
  },
  { requiredKeys: [] },
);

const input = { exporter: EXPORTER, receivedMs: RECEIVED_MS, store: new TemplateStore() };

/** The general path: the fixed-layout reader's records, lifted like any format's. */
function general(bytes: Uint8Array, sampling: SamplingConfig): FlowRecord[] {
  const producer = new NetflowProducer(new SamplingRates(sampling));
  return producer.produce(decodeNetflowLegacy(bytes, input), PORT);
}

function datagram(bytes: Uint8Array): Datagram {
  return { bytes, exporter: EXPORTER, exporterPort: PORT, receivedMs: RECEIVED_MS };
}

test('every fixed layout has a generated producer where code generation is allowed', () => {
  for (const version of [1, 5, 7] as const) {
    const header = new Bytes().u16(version).u16(0).u32(0).u32(0).u32(0).u32(0).u32(0).bytes();
    const layout = readNetflowLegacyHeader(header, input).layout as FixedLayout;
    assert.equal(layout.version, version);
    assert.equal(fixedProducerOf(layout) !== undefined, canGenerateCode(), `v${version}`);
  }
});

test('v1/v5/v7 records made straight from the bytes equal the general path, documents byte for byte', () => {
  fc.assert(
    fc.property(fc.array(packetArb, { minLength: 1, maxLength: 8 }), samplingArb, (packets, s) => {
      // One decoder across the packets, so the document writer's generated per-layout
      // code (after 64 records of a layout) serves later records too.
      // And one that recycles its records (as the decode worker's), each packet's
      // checked before the next is decoded.
      const decoder = new FlowDecoder({ sampling: s });
      const recycling = new FlowDecoder({ sampling: s, recycleRecords: true });
      for (const [p, facts] of packets.entries()) {
        const bytes = packetBytes(facts);
        const out = decoder.decode(datagram(bytes));
        const want = general(bytes, s);
        assert.deepEqual(out.issues, decodeNetflowLegacy(bytes, input).issues, `packet ${p}`);
        assert.equal(out.records.length, want.length, `packet ${p}`);
        for (const [i, r] of out.records.entries()) {
          const where = `v${facts.version} packet ${p} record ${i}`;
          assertSameNetflowRecord(r, want[i] as FlowRecord, where);
        }
        const again = recycling.decode(datagram(bytes)).records;
        const reference = general(bytes, s);
        assert.equal(again.length, reference.length, `packet ${p}, recycled`);
        for (const [i, r] of again.entries()) {
          const where = `v${facts.version} packet ${p} record ${i}, recycled`;
          assertSameNetflowRecord(r, reference[i] as FlowRecord, where);
        }
      }
    }),
    { numRuns: 300 },
  );
});
