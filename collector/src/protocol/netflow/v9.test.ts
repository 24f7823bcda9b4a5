import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Bytes,
  set,
  v9OptionsTemplateRecord,
  v9Packet,
  v9TemplateRecord,
} from '../../../test/support/wire.js';
import { TemplateStore } from '../templates/store.js';
import type { DataRecord } from '../templates/types.js';
import type { DecodeInput } from './result.js';
import { decodeNetflowV9 } from './v9.js';

const EXPORTER = '198.51.100.7';
const input = (store: TemplateStore): DecodeInput => ({ exporter: EXPORTER, receivedMs: 0, store });

function values(r: DataRecord | undefined): Record<string, unknown> {
  assert.ok(r, 'record exists');
  return Object.fromEntries(r.fields.map((f) => [f.info.field, f.value]));
}

const T = v9TemplateRecord(260, [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 2, length: 4 },
  { id: 1, length: 4 },
  { id: 22, length: 4 },
  { id: 21, length: 4 },
  { id: 48, length: 1 },
]);
const rec = (src: string, pkts: number, bytes: number) =>
  new Bytes().ip4(src).ip4('10.9.9.9').u32(pkts).u32(bytes).u32(90_000).u32(95_000).u8(1).bytes();

test('NetFlow v9: template and data; the header count is not trusted to end the walk', () => {
  const store = new TemplateStore();
  // count says 1 although two flowsets with 3 records follow (some exporters leave
  // template records out of the count).
  const pkt = v9Packet(
    [
      set(0, T),
      set(260, Uint8Array.from([...rec('10.0.0.1', 2, 80), ...rec('10.0.0.2', 3, 120)]), 4),
    ],
    {
      count: 1,
      sequence: 77,
      sourceId: 3,
    },
  );
  const res = decodeNetflowV9(pkt, input(store));
  assert.deepEqual(res.issues, []);
  assert.equal(res.records.length, 2);
  assert.equal(values(res.records[1]).source_ipv4_address, '10.0.0.2');
  assert.equal(values(res.records[1]).octet_delta_count, 120);
  assert.equal(values(res.records[0]).flow_start_sys_up_time, 90_000);
  assert.equal(res.ctx?.domain, 3);
  assert.equal(res.ctx?.sequence, 77);
  assert.equal(res.sequenceIncrement, 1, 'v9 sequence numbers count export packets');
});

test('NetFlow v9: options template scope fields are named, not mistaken for elements', () => {
  const store = new TemplateStore();
  const ot = v9OptionsTemplateRecord(
    256,
    [{ id: 1, length: 4 }], // scope: System
    [
      { id: 48, length: 1 }, // samplerId
      { id: 49, length: 1 }, // samplerMode
      { id: 50, length: 4 }, // samplerRandomInterval
    ],
  );
  const od = new Bytes().u32(0xac13c8e4).u8(1).u8(2).u32(30000).bytes();
  const res = decodeNetflowV9(v9Packet([set(1, ot, 4), set(256, od, 4)]), input(store));
  assert.deepEqual(res.issues, []);
  assert.equal(res.records.length, 1);
  const v = values(res.records[0]);
  assert.equal(v.scope_system, 0xac13c8e4);
  assert.equal(v.sampler_random_interval, 30000);
  assert.equal(res.records[0]?.options, true);
});

test('NetFlow v9 bad input: counted by reason, never thrown, other flowsets kept', () => {
  const store = new TemplateStore();
  const reasons = (b: Uint8Array) => decodeNetflowV9(b, input(store)).issues.map((i) => i.reason);
  assert.deepEqual(reasons(Uint8Array.of(0, 9, 0, 1)), ['truncated']);
  assert.deepEqual(reasons(v9Packet([set(0, v9TemplateRecord(100, [{ id: 8, length: 4 }]))])), [
    'bad_template',
  ]);
  assert.deepEqual(reasons(v9Packet([set(0, v9TemplateRecord(300, []))])), ['bad_template']);
  assert.deepEqual(reasons(v9Packet([set(7, Uint8Array.of(0, 0, 0, 0))])), ['unknown_set']);
  const lying = v9Packet([set(0, T)]);
  lying[23] = 0xff; // flowset length beyond the packet
  assert.deepEqual(reasons(lying), ['truncated']);
  // A template whose fields are all zero-length cannot make records (it would loop).
  const zero = v9TemplateRecord(301, [{ id: 8, length: 0 }]);
  assert.deepEqual(reasons(v9Packet([set(0, zero), set(301, Uint8Array.of(1, 2, 3, 4))])), [
    'bad_template',
  ]);
  // A bad template flowset does not lose the good data flowset after it.
  decodeNetflowV9(v9Packet([set(0, T)]), input(store));
  const mixed = decodeNetflowV9(
    v9Packet([
      set(0, v9TemplateRecord(5, [{ id: 8, length: 4 }])),
      set(260, rec('10.1.1.1', 1, 1)),
    ]),
    input(store),
  );
  assert.deepEqual(
    mixed.issues.map((i) => i.reason),
    ['bad_template'],
  );
  assert.equal(mixed.records.length, 1);
});
