import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PCAPS_DIR } from '@sluice/testkit';
import fc from 'fast-check';
import { fuzzRuns } from '../../test/support/fuzz.js';
import { datagramsFromCaptures } from '../ingest/capture-source.js';
import { readPcap } from '../protocol/packet/pcap.test-helpers.js';
import { decodeSflow } from '../protocol/sflow/index.js';
import { type Xdr, xdr } from '../protocol/sflow/xdr.test-helpers.js';
import { FlowDecoder } from './decoder.js';
import { documentText, serializeDocument, toDocument } from './document.js';
import type { FlowRecord } from './record.js';
import { FLOW_RECORD_FACTS } from './record-members.test-helpers.js';
import { SamplingRates } from './sampling.js';
import { SflowFastLane } from './sflow-fast.js';
import { SflowProducer } from './sflow-producer.js';

// The fast lane (sflow-fast.ts) against what it replaces, decodeSflow + SflowProducer:
// for every datagram it takes, the same records (every FlowRecord member, the extras'
// JSON) and byte-identical documents, on the captures and on generated datagrams of
// every record kind in any order, cut, flipped and with lying lengths; and for every
// datagram it leaves, the general path had something to report or a record it does not
// take. The documents are compared before any member is read (the writer then works
// from the addresses' numbers and bytes) and again after (from the text made on read).

/** Every member of FlowRecord but the address numbers (a representation, not a fact). */
const MEMBERS = [...FLOW_RECORD_FACTS, 'layout', 'values'] as const;

/** The members of a flow sample's extras (counter samples': sample and counters). */
const EXTRA_MEMBERS = [
  'sample',
  'header',
  'vlan_ids',
  'mpls_labels',
  'ttl',
  'ipv6_flow_label',
  'srv6_segments',
  'vxlan_vni',
  'encapsulation',
  'truncated_at',
  'inner',
  'switch',
  'router',
  'gateway',
  'counters',
] as const;

const stats = { fast: 0, general: 0, counters: 0 };

/** JSON with bigints (counters past 2^53) as their digits and an n. */
const json = (v: unknown) =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

function compare(bytes: Uint8Array, where: string): void {
  const rates = new SamplingRates();
  const fast = new SflowFastLane(rates).produce(bytes, '192.0.2.1', 6343, 1_700_000_000_123);
  const res = decodeSflow(bytes);
  const general = new SflowProducer(rates).produce(res, '192.0.2.1', 6343, 1_700_000_000_123);
  if (fast === undefined) {
    stats.general++;
    return;
  }
  stats.fast++;
  stats.counters += fast.filter((r) => r.kind === 'counters').length;
  assert.deepEqual(res.errors, [], `${where}: the fast lane took a datagram with issues`);
  assert.equal(fast.length, general.length, `${where}: records`);
  for (let i = 0; i < fast.length; i++) {
    const a = fast[i] as FlowRecord;
    const b = general[i] as FlowRecord;
    const at = `${where} record ${i}`;
    assert.equal(documentText(a), documentText(b), `${at}: document`);
    assert.equal(serializeDocument(toDocument(a)), serializeDocument(toDocument(b)), at);
    assert.equal(json(a.extra), json(b.extra), `${at}: extras`);
    // The extras' members, read by name, are the general producer's.
    const xa = a.extra as Record<string, unknown>;
    const xb = b.extra as Record<string, unknown>;
    for (const k of EXTRA_MEMBERS) assert.deepEqual(xa[k], xb[k], `${at}: extra.${k}`);
    for (const k of MEMBERS) assert.deepEqual(a[k], b[k], `${at}: ${k}`);
    assert.equal(documentText(a), documentText(b), `${at}: document after reading members`);
  }
}

test('the fast lane makes the records and documents of the general path on every capture', () => {
  const dir = join(PCAPS_DIR, 'akvorado', 'sflow');
  const files = readdirSync(dir).map((f) => join(dir, f));
  const before = stats.fast;
  let i = 0;
  for (const d of datagramsFromCaptures(files)) compare(d.bytes, `capture datagram ${i++}`);
  assert.ok(stats.fast - before >= 8, `${stats.fast - before} datagrams took the fast lane`);
});

test('a FlowDecoder reports the issues of the general path, a record per sample', () => {
  const dir = join(PCAPS_DIR, 'akvorado', 'sflow');
  const files = readdirSync(dir).map((f) => join(dir, f));
  const decoder = new FlowDecoder();
  for (const d of datagramsFromCaptures(files)) {
    const out = decoder.decode(d);
    const res = decodeSflow(d.bytes);
    assert.deepEqual(
      out.issues,
      res.errors.map((e) => ({ reason: e.reason, message: e.message })),
    );
    const samples = res.datagram?.samples.filter((x) => x.kind !== 'raw') ?? [];
    assert.equal(out.records.length, samples.length);
  }
});

// --- generated datagrams ------------------------------------------------------------------

/** Packets to sample: the encapsulation captures' frames and the sFlow captures' headers. */
function seedPackets(): Uint8Array[] {
  const encap = join(PCAPS_DIR, 'akvorado', 'encap');
  const frames = readdirSync(encap)
    .filter((f) => f.endsWith('.pcap'))
    .flatMap((f) => readPcap(readFileSync(join(encap, f))).map((r) => r.data));
  const dir = join(PCAPS_DIR, 'akvorado', 'sflow');
  for (const d of datagramsFromCaptures(readdirSync(dir).map((f) => join(dir, f)))) {
    for (const s of decodeSflow(d.bytes).datagram?.samples ?? []) {
      if (s.kind !== 'flow') continue;
      for (const r of s.records) if (r.type === 'raw_header') frames.push(r.header.slice());
    }
  }
  return frames;
}

const SEEDS = seedPackets();

const u32 = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0, max: 70 }),
  fc.constantFrom(0, 1, 0xffffffff, 0x40000000, 0x80000001),
);

/** A sampled packet: a seed cut short and with bytes changed, or random bytes. */
const packetArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...SEEDS),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.boolean(),
      )
      .map(([seed, cut, flips, whole]) => {
        const b = whole ? seed.slice(0, 128) : seed.slice(0, (cut % (seed.length + 1)) | 0);
        for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
        return b;
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
);

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

/** A sampled IPv4 (format 3) or IPv6 (format 4) record: length, protocol, the addresses of `size` bytes, ports, flags and tos. */
function sampledIpArb(format: number, size: number) {
  return fc
    .tuple(u32, u32, bytes(size), bytes(size), fc.array(u32, { minLength: 4, maxLength: 4 }))
    .map(([len, proto, src, dst, rest]) =>
      xdr().record(
        0,
        format,
        xdr()
          .u32(len, proto)
          .opaque(src)
          .opaque(dst)
          .u32(...rest),
      ),
    );
}

const nextHopArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(xdr().u32(0)) },
  { weight: 3, arbitrary: bytes(4).map((a) => xdr().u32(1).opaque(a)) },
  { weight: 2, arbitrary: bytes(16).map((a) => xdr().u32(2).opaque(a)) },
  { weight: 1, arbitrary: fc.constant(xdr().u32(7)) },
);

/** A flow record (tag, length, body). */
const recordArb: fc.Arbitrary<Xdr> = fc.oneof(
  { withCrossShrink: true },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(1, 1, 1, 11, 12, 13, 2, 99), u32, u32, packetArb)
      .map(([proto, frame, stripped, pkt]) =>
        xdr().record(0, 1, xdr().u32(proto, frame, stripped).vopaque(pkt)),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(u32, bytes(6), bytes(6), u32)
      .map(([len, src, dst, type]) =>
        xdr().record(0, 2, xdr().u32(len).opaque(src).opaque(dst).u32(type)),
      ),
  },
  { weight: 2, arbitrary: sampledIpArb(3, 4) },
  { weight: 2, arbitrary: sampledIpArb(4, 16) },
  {
    weight: 3,
    arbitrary: fc
      .array(u32, { minLength: 4, maxLength: 4 })
      .map((w) => xdr().record(0, 1001, xdr().u32(...w))),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(nextHopArb, u32, u32)
      .map(([nh, a, b]) => xdr().record(0, 1002, xdr().append(nh).u32(a, b))),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        nextHopArb,
        fc.array(u32, { minLength: 3, maxLength: 3 }),
        fc.array(fc.tuple(fc.constantFrom(1, 2), fc.array(u32, { maxLength: 4 })), {
          maxLength: 3,
        }),
        fc.array(u32, { maxLength: 3 }),
        u32,
      )
      .map(([nh, ases, path, communities, localPref]) => {
        const body = xdr()
          .append(nh)
          .u32(...ases, path.length);
        for (const [type, asns] of path) body.u32(type, asns.length, ...asns);
        body.u32(communities.length, ...communities).u32(localPref);
        return xdr().record(0, 1003, body);
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(0, 4413),
        fc.integer({ min: 0, max: 4095 }),
        fc.uint8Array({ maxLength: 12 }),
      )
      .map(([e, f, body]) => xdr().record(e, f, xdr().opaque(body))),
  },
);

/** Well-formed counter samples, compact and expanded: generic, Ethernet, VLAN, CPU, raw. */
function counterSamples(): Xdr[] {
  const generic = xdr()
    .u32(7, 6)
    .u64(10_000_000_000n)
    .u32(1, 3)
    .u64(2n ** 60n)
    .u32(1, 2, 3, 4, 5, 6)
    .u64(123n)
    .u32(7, 8, 9, 10, 11, 0);
  const records = [
    xdr().record(0, 1, generic),
    xdr().record(0, 2, xdr().u32(...Array.from({ length: 13 }, (_, i) => i))),
    xdr().record(0, 5, xdr().u32(100).u64(5n).u32(1, 2, 3, 4)),
    xdr().record(0, 1001, xdr().u32(10, 20, 30).u64(8n).u64(4n)),
    xdr().record(4413, 7, xdr().u32(1, 2)),
  ];
  return [
    xdr().record(
      0,
      2,
      xdr()
        .u32(9, 0x01000007, records.length)
        .append(records.reduce((a, r) => a.append(r), xdr())),
    ),
    xdr().record(
      0,
      4,
      xdr()
        .u32(9, 1, 7, 2)
        .append(records[0] as Xdr)
        .append(records[3] as Xdr),
    ),
  ];
}

const sampleArb: fc.Arbitrary<Xdr> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.boolean(),
        fc.array(u32, { minLength: 11, maxLength: 11 }),
        fc.array(recordArb, { maxLength: 5 }),
        fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1),
      )
      .map(([expanded, w, records, countSkew]) => {
        const body = expanded ? xdr().u32(...w.slice(0, 10)) : xdr().u32(...w.slice(0, 7));
        body.u32(Math.max(0, records.length + (countSkew === 1 ? 1 : 0)));
        for (const r of records) body.append(r);
        return xdr().record(0, expanded ? 3 : 1, body);
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 24 })
      .map((b) => xdr().record(0, 2, xdr().u32(1, 2, 0).opaque(b))),
  },
  { weight: 2, arbitrary: fc.constantFrom(...counterSamples()) },
);

const datagramArb = fc
  .tuple(
    fc.constantFrom(5, 5, 5, 5, 5, 5, 5, 5, 5, 4),
    fc.oneof(
      bytes(4).map((a) => xdr().u32(1).opaque(a)),
      bytes(16).map((a) => xdr().u32(2).opaque(a)),
      fc.constant(xdr().u32(0)),
    ),
    fc.tuple(u32, u32, u32),
    fc.array(sampleArb, { maxLength: 4 }),
    fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, -1, 1),
    fc.oneof(
      { weight: 12, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }) },
    ),
  )
  .map(([version, agent, [sub, seq, up], samples, skew, trailing]) => {
    const d = xdr()
      .u32(version)
      .append(agent)
      .u32(sub, seq, up, Math.max(0, samples.length + skew));
    for (const s of samples) d.append(s);
    if (trailing !== null) d.opaque(trailing);
    return d.bytes();
  });

test('generated datagrams: the fast lane makes what the general path makes, or leaves them', () => {
  const before = { ...stats };
  fc.assert(
    fc.property(datagramArb, (d) => compare(d, 'generated')),
    { numRuns: fuzzRuns(4000) },
  );
  const fast = stats.fast - before.fast;
  const general = stats.general - before.general;
  // Neither side of the comparison may be vacuous.
  assert.ok(fast > 800 && general > 400, `fast lane ${fast}, general path ${general}`);
  const counters = stats.counters - before.counters;
  assert.ok(counters > 100, `${counters} counter records from the fast lane`);
});

test('cut and flipped generated datagrams: the same, or left to the general path', () => {
  fc.assert(
    fc.property(
      datagramArb,
      fc.nat(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      (d, cut, flips) => {
        const b = d.slice(0, d.length === 0 ? 0 : (cut % d.length) + 1);
        for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
        compare(b, 'mutated');
      },
    ),
    { numRuns: fuzzRuns(3000) },
  );
});

/** A datagram of one compact flow sample from `agent` (IPv4 a.b.c.d as a number). */
function agentDatagram(agent: number, sequence: number): Uint8Array {
  const sample = xdr()
    .u32(1, 3, 100, 1000, 0, 1, 2, 1)
    .record(0, 1001, xdr().u32(10, 0, 20, 0));
  return xdr().u32(5, 1, agent, 0, sequence, 1000, 1).record(0, 1, sample).bytes();
}

test('one lane over many agents: each datagram keeps its own agent', () => {
  const lane = new SflowFastLane(new SamplingRates());
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 60 }), (agents) => {
      for (const a of agents) {
        const b = agentDatagram(0x0a000000 + a, 1);
        const records = lane.produce(b, '192.0.2.1', 6343, 1e12) ?? [];
        assert.equal(records[0]?.exporter.agent, `10.0.0.${a}`);
        assert.equal(lane.agent, `10.0.0.${a}`);
      }
    }),
    { numRuns: fuzzRuns(300) },
  );
});

test('sequence numbers of interleaved agents are tracked per agent', () => {
  const decoder = new FlowDecoder();
  // 12 agents (more than the decoder keeps stream keys for), datagrams round robin,
  // each agent counting its own datagrams; agent 7 skips 5 once.
  const next = new Map<number, number>();
  for (let round = 0; round < 30; round++) {
    for (let a = 1; a <= 12; a++) {
      let seq = next.get(a) ?? 100;
      if (a === 7 && round === 20) seq += 5;
      next.set(a, seq + 1);
      const out = decoder.decode({
        bytes: agentDatagram(0x0a000000 + a, seq),
        exporter: '192.0.2.1',
        exporterPort: 6343,
        receivedMs: 1e12,
      });
      assert.equal(out.records.length, 1);
    }
  }
  const s = decoder.exporterStats().get('192.0.2.1');
  assert.equal(s?.sequenceGaps, 1);
  assert.equal(s?.sequenceMissing, 5);
  assert.equal(s?.sequenceResets, 0);
});
