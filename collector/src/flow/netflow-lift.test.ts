import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type ElementInfo, elementFor } from '../protocol/ipfix/registry/index.js';
import type { FieldValue } from '../protocol/templates/types.js';
import { actionOf, compileLifter, LiftState, liftLoop } from './netflow-lift.js';
import { NetflowRecord } from './netflow-record.js';
import type { ExporterInfo } from './record.js';
import { FLOW_RECORD_FACTS } from './record-members.test-helpers.js';

// The generated lifter of a layout against the loop over the same rules, on generated
// layouts (every element the producer lifts, repeated, with ones it skips) and values
// of every type, IPv4 addresses as numbers or text: both must leave the same record.

const exporter: ExporterInfo = {
  address: '192.0.2.1',
  port: undefined,
  protocol: 'netflow',
  version: 10,
  domain: 0,
  sequence: 0,
  uptimeMs: undefined,
  exportTimeMs: 1_700_000_000_000,
};

/** Every IANA element the producer lifts, the biflow counters, and a few it skips. */
const LIFTED = [
  1, 2, 85, 86, 4, 5, 6, 7, 11, 8, 12, 27, 28, 9, 29, 13, 30, 10, 14, 15, 62, 16, 17, 56, 80, 58,
  243, 245, 61, 32, 139, 176, 178, 177, 179, 22, 21, 150, 152, 154, 156, 151, 153, 155, 157, 158,
  159, 161, 162, 48, 302, 34, 50, 305,
];
const ELEMENTS: readonly ElementInfo[] = [
  ...LIFTED.map((id) => elementFor(0, id)),
  elementFor(29305, 1),
  elementFor(29305, 2),
  elementFor(0, 3),
  elementFor(0, 82),
  elementFor(0, 225),
];

const valueArb: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.constantFrom(0, 1, 2, 6, 17, 58),
  fc.nat(0xffffffff),
  fc.double(),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.constantFrom('0.0.0.0', '::', '10.0.0.1', '2001:db8::1', 'aa:bb:cc:dd:ee:ff'),
  fc.boolean(),
  fc.uint8Array({ maxLength: 6 }),
);

/** A field: its element, its value, and whether the value is an IPv4 number. */
const fieldArb = fc
  .constantFrom(...ELEMENTS)
  .chain((info) =>
    info.type === 'ipv4Address'
      ? fc.oneof(
          fc.tuple(fc.constant(info), fc.constantFrom(0, 0x0a000001, 0xffffffff), fc.constant(1)),
          fc.tuple(fc.constant(info), fc.nat(0xffffffff), fc.constant(1)),
          fc.tuple(fc.constant(info), valueArb, fc.constant(0)),
        )
      : fc.tuple(fc.constant(info), valueArb, fc.constant(0)),
  );

/** What a lift may change: every fact of the record, and the address numbers. */
const MEMBERS = [...FLOW_RECORD_FACTS, 'srcIpv4', 'dstIpv4', 'nextHopIpv4'] as const;

function snapshot(r: NetflowRecord, st: LiftState): unknown[] {
  return [...MEMBERS.map((m) => r[m]), { ...st }];
}

test('generated lifters leave the record the loop leaves', () => {
  fc.assert(
    fc.property(fc.array(fieldArb, { minLength: 1, maxLength: 30 }), (fields) => {
      const infos = fields.map(([info]) => info);
      const values = fields.map(([, v]) => v);
      const layout = { infos, ipv4: Uint8Array.from(fields, ([, , f]) => f) };
      const actions = Uint8Array.from(infos, actionOf);
      const compiled = compileLifter(actions);
      assert.ok(compiled, 'code generation is allowed here');
      const a = new NetflowRecord('flow', exporter, 0, layout, values);
      const sa = new LiftState();
      liftLoop(actions)(a, sa, values, layout.ipv4);
      const b = new NetflowRecord('flow', exporter, 0, layout, values);
      const sb = new LiftState();
      compiled(b, sb, values, layout.ipv4);
      assert.deepStrictEqual(snapshot(b, sb), snapshot(a, sa));
    }),
    { numRuns: 3000 },
  );
});
