import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PCAPS_DIR } from '@sluice/testkit';
import fc from 'fast-check';
import { fuzzRuns } from '../../test/support/fuzz.js';
import { datagramsFromCaptures } from '../ingest/capture-source.js';
import { ipv6ToString } from '../protocol/address.js';
import { documentText, serializeDocument, toDocument } from './document.js';
import { JsonOut } from './json-out.js';
import type { FlowRecord } from './record.js';
import { FLOW_RECORD_FACTS } from './record-members.test-helpers.js';
import { SamplingRates } from './sampling.js';
import { writeIpv6Quoted } from './sflow-document.js';
import { SflowFastLane } from './sflow-fast.js';
import type { SflowRecord } from './sflow-record.js';

// The sFlow record writer's own pieces against what they replace: the IPv6 text against
// ipv6ToString, and documents of records changed after the fast lane made them (members
// set as text, cleared, counters added) against the same members in a plain object,
// which the general writer writes from the text.

/** 16 bytes biased to zero runs, 0xffff words and IPv4-mapped addresses. */
const ipv6Arb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc
    .array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0x1234, 0xab, 0x1000), {
      minLength: 8,
      maxLength: 8,
    })
    .map((words) => {
      const b = new Uint8Array(16);
      words.forEach((w, i) => {
        b[2 * i] = w >> 8;
        b[2 * i + 1] = w & 0xff;
      });
      return b;
    }),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((v4) => {
    const b = new Uint8Array(16);
    b[10] = 0xff;
    b[11] = 0xff;
    b.set(v4, 12);
    return b;
  }),
);

test('writeIpv6Quoted writes the JSON of ipv6ToString', () => {
  const o = new JsonOut(64);
  fc.assert(
    fc.property(ipv6Arb, fc.nat({ max: 16 }), (bytes, at) => {
      const buf = new Uint8Array(at + 16);
      buf.set(bytes, at);
      o.reset();
      writeIpv6Quoted(o, buf, at);
      assert.equal(o.text(), JSON.stringify(ipv6ToString(bytes)));
    }),
    { numRuns: fuzzRuns(5000) },
  );
});

const KEYS = [...FLOW_RECORD_FACTS, 'extra'] as const;

/** The record's members as a plain object (addresses as their text). */
function plain(r: FlowRecord): FlowRecord {
  const out: Record<string, unknown> = {};
  for (const k of KEYS) if (r[k] !== undefined) out[k] = r[k];
  return out as unknown as FlowRecord;
}

function captureRecords(): SflowRecord[] {
  const dir = join(PCAPS_DIR, 'akvorado', 'sflow');
  const lane = new SflowFastLane(new SamplingRates());
  const out: SflowRecord[] = [];
  for (const d of datagramsFromCaptures(readdirSync(dir).map((f) => join(dir, f)))) {
    for (const r of lane.produce(d.bytes, d.exporter, d.exporterPort, d.receivedMs) ?? []) {
      out.push(r as SflowRecord);
    }
  }
  return out;
}

const textArb = fc.oneof(
  fc.constant(undefined),
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('aa:bb:cc:dd:ee:ff', '00:11:22:33:44:55', 'Ab:cD:0e:f1:23:45', 'x"y'),
);

type Change = (r: SflowRecord, v: string | undefined, n: number) => void;

const CHANGES: Change[] = [
  (r, v) => {
    r.srcAddr = v;
  },
  (r, v) => {
    r.dstAddr = v;
  },
  (r, v) => {
    r.srcMac = v;
  },
  (r, v) => {
    r.dstMac = v;
  },
  (r, _v, n) => {
    r.reverseBytes = n;
  },
  (r, _v, n) => {
    r.startMs = n;
    r.endMs = n + 1000;
  },
  (r, _v, n) => {
    r.protocol = n % 3 === 0 ? 58 : n % 3 === 1 ? 1 : 6;
    r.icmpType = n % 256;
  },
  (r) => {
    r.dstAddr = r.srcAddr;
  },
  (r) => {
    r.direction = 'ingress';
  },
];

test('records changed after the fast lane made them: the general writer text', () => {
  const records = captureRecords();
  assert.ok(records.length >= 8);
  fc.assert(
    fc.property(
      fc.nat({ max: records.length - 1 }),
      fc.array(fc.tuple(fc.nat({ max: CHANGES.length - 1 }), textArb, fc.nat({ max: 2 ** 40 })), {
        maxLength: 4,
      }),
      (i, changes) => {
        // A copy of the lane's record each time (its members, the same prototype).
        const base = records[i] as SflowRecord;
        const r = Object.assign(Object.create(Object.getPrototypeOf(base)), base) as SflowRecord;
        for (const [c, v, n] of changes) (CHANGES[c] as Change)(r, v, n);
        const got = documentText(r);
        assert.equal(got, documentText(plain(r)));
      },
    ),
    { numRuns: fuzzRuns(3000) },
  );
});

/** The captures' datagrams the fast lane takes (decoded afresh for each use). */
function laneDatagrams(): Uint8Array[] {
  const dir = join(PCAPS_DIR, 'akvorado', 'sflow');
  const lane = new SflowFastLane(new SamplingRates());
  return [...datagramsFromCaptures(readdirSync(dir).map((f) => join(dir, f)))]
    .map((d) => d.bytes)
    .filter((b) => lane.produce(b, '192.0.2.1', 6343, 1_700_000_000_000) !== undefined);
}

type ExtraChange = (x: Record<string, unknown>, v: unknown) => void;

const EXTRA_CHANGES: ExtraChange[] = [
  (x) => {
    void x.sample; // made on read: written from the object from then on
  },
  (x) => {
    void x.header;
    void x.switch;
    void x.router;
  },
  (x, v) => {
    x.sample = v;
  },
  (x, v) => {
    x.header = v;
  },
  (x, v) => {
    x.switch = v;
  },
  (x, v) => {
    x.router = v;
  },
  (x, v) => {
    x.gateway = v;
  },
  (x, v) => {
    x.vlan_ids = v;
  },
  (x, v) => {
    x.ttl = v;
  },
  (x) => {
    const s = x.sample;
    if (typeof s === 'object' && s !== null) (s as Record<string, unknown>).drops = 'many';
  },
  (x) => {
    const s = x.switch;
    if (typeof s === 'object' && s !== null) (s as Record<string, unknown>).src_vlan = -1.5;
  },
  (x) => {
    (x as { added?: number }).added = 1; // not part of the JSON: toJSON decides it
  },
];

const extraValueArb = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.string(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
);

test('fast-lane extras read and changed: the JSON.stringify text of their toJSON', () => {
  const datagrams = laneDatagrams();
  assert.ok(datagrams.length >= 8);
  fc.assert(
    fc.property(
      fc.nat({ max: datagrams.length - 1 }),
      fc.array(fc.tuple(fc.nat({ max: EXTRA_CHANGES.length - 1 }), extraValueArb), {
        maxLength: 4,
      }),
      (i, changes) => {
        const lane = new SflowFastLane(new SamplingRates());
        const records = lane.produce(datagrams[i] as Uint8Array, '192.0.2.1', 6343, 1e12) ?? [];
        for (const r of records) {
          const x = r.extra as Record<string, unknown>;
          for (const [c, v] of changes) (EXTRA_CHANGES[c] as ExtraChange)(x, v);
          assert.equal(documentText(r), serializeDocument(toDocument(r)));
        }
      },
    ),
    { numRuns: fuzzRuns(2000) },
  );
});
