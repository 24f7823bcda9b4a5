import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bytes, ipfixMessage, ipfixTemplateRecord, set } from '../../../test/support/wire.js';
import type { DecodeInput } from '../netflow/result.js';
import { TemplateStore } from '../templates/store.js';
import type { DataRecord } from '../templates/types.js';
import { decodeIpfix } from './ipfix.js';

const A = '192.0.2.1';
const B = '2001:db8::2';

function input(store: TemplateStore, exporter = A, receivedMs = 1_700_000_000_000): DecodeInput {
  return { exporter, receivedMs, store };
}

/** field name -> value of one decoded record */
function values(r: DataRecord | undefined): Record<string, unknown> {
  assert.ok(r, 'record exists');
  return Object.fromEntries(r.fields.map((f) => [f.info.field, f.value]));
}

// Template 256: src, dst, bytes (reduced to 4 of 8), packets (8), proto, interfaceName (varlen),
// and an element of an unknown enterprise (PEN 99999, id 7, 2 bytes).
const T256 = ipfixTemplateRecord(256, [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 1, length: 4 },
  { id: 2, length: 8 },
  { id: 4, length: 1 },
  { id: 82, length: 0xffff },
  { id: 7, length: 2, enterprise: 99999 },
]);

function record256(
  src: string,
  dst: string,
  bytes: number,
  pkts: number,
  name: string,
): Uint8Array {
  const b = new Bytes().ip4(src).ip4(dst).u32(bytes).u64(BigInt(pkts)).u8(6);
  if (name.length < 255) b.u8(name.length).text(name);
  else b.u8(255).u16(name.length).text(name);
  return b.u16(0xbeef).bytes();
}

test('IPFIX: template, then data with reduced-size, variable-length and enterprise fields', () => {
  const store = new TemplateStore();
  const t = decodeIpfix(ipfixMessage([set(2, T256)]), input(store));
  assert.equal(t.templatesLearned, 1);
  assert.deepEqual(t.issues, []);
  const long = 'x'.repeat(300); // 3-byte length prefix (255 + u16)
  const data = Uint8Array.from([
    ...record256('10.0.0.1', '10.0.0.2', 1500, 3, 'eth0'),
    ...record256('10.0.0.3', '10.0.0.4', 0xfffffff0, 2 ** 40, long),
  ]);
  const d = decodeIpfix(ipfixMessage([set(256, data, 4)], { sequence: 5 }), input(store));
  assert.deepEqual(d.issues, []);
  assert.equal(d.records.length, 2, 'padding after the records is not a record');
  const r0 = values(d.records[0]);
  assert.equal(r0.source_ipv4_address, '10.0.0.1');
  assert.equal(r0.destination_ipv4_address, '10.0.0.2');
  assert.equal(r0.octet_delta_count, 1500);
  assert.equal(r0.packet_delta_count, 3);
  assert.equal(r0.protocol_identifier, 6);
  assert.equal(r0.interface_name, 'eth0');
  assert.deepEqual(
    r0.enterprise_99999_7,
    Uint8Array.from([0xbe, 0xef]),
    'unknown element kept raw',
  );
  const r1 = values(d.records[1]);
  assert.equal(r1.octet_delta_count, 0xfffffff0);
  assert.equal(r1.packet_delta_count, 2 ** 40);
  assert.equal(r1.interface_name, long);
  assert.equal(d.sequenceIncrement, 2, 'IPFIX sequence numbers count data records');
  assert.equal(d.ctx?.domain, 1);
});

test('IPFIX: several sets in one message, and data before its template held until it comes', () => {
  const store = new TemplateStore();
  const data = set(256, record256('10.0.0.1', '10.0.0.2', 100, 1, 'a'));
  const early = decodeIpfix(ipfixMessage([data, data]), input(store));
  assert.equal(early.records.length, 0);
  assert.equal(early.held, 2);
  assert.equal(early.sequenceIncrement, undefined, 'record count unknown while data is held');
  const later = decodeIpfix(ipfixMessage([set(2, T256), data]), input(store));
  assert.equal(later.records.length, 3, 'two held records and one new');
  assert.equal(store.pendingCount(), 0);
  // Held records keep the context of the message they arrived in.
  assert.equal(later.records[0]?.ctx, early.ctx);
});

test('IPFIX: held data whose template never comes expires and is returned for counting', () => {
  const store = new TemplateStore({ pendingTtlMs: 1_000 });
  decodeIpfix(ipfixMessage([set(300, Uint8Array.of(1, 2, 3, 4))]), input(store, A, 10_000));
  assert.equal(store.expire(10_500).length, 0);
  const expired = store.expire(11_001);
  assert.equal(expired.length, 1);
  assert.equal(expired[0]?.templateId, 300);
});

test('IPFIX: the same template id from two exporters and two domains never collides', () => {
  const store = new TemplateStore();
  const tA = ipfixTemplateRecord(256, [{ id: 8, length: 4 }]);
  const tB = ipfixTemplateRecord(256, [{ id: 7, length: 2 }]);
  decodeIpfix(ipfixMessage([set(2, tA)]), input(store, A));
  decodeIpfix(ipfixMessage([set(2, tB)]), input(store, B));
  decodeIpfix(ipfixMessage([set(2, tB)], { domain: 2 }), input(store, A));
  const a = decodeIpfix(
    ipfixMessage([set(256, new Bytes().ip4('10.1.1.1').bytes())]),
    input(store, A),
  );
  const b = decodeIpfix(ipfixMessage([set(256, new Bytes().u16(443).bytes())]), input(store, B));
  const a2 = decodeIpfix(
    ipfixMessage([set(256, new Bytes().u16(53).bytes())], { domain: 2 }),
    input(store, A),
  );
  assert.equal(values(a.records[0]).source_ipv4_address, '10.1.1.1');
  assert.equal(values(b.records[0]).source_transport_port, 443);
  assert.equal(values(a2.records[0]).source_transport_port, 53);
});

test('IPFIX: template withdrawal, one id and all, per RFC 7011 8.1', () => {
  const store = new TemplateStore();
  const t257 = ipfixTemplateRecord(257, [{ id: 7, length: 2 }]);
  decodeIpfix(ipfixMessage([set(2, Uint8Array.from([...T256, ...t257]))]), input(store));
  assert.equal(store.templateCount(A), 2);
  const one = decodeIpfix(
    ipfixMessage([set(2, new Bytes().u16(256).u16(0).bytes())]),
    input(store),
  );
  assert.equal(one.templatesWithdrawn, 1);
  assert.equal(store.get(A, 10, 1, 256), undefined);
  assert.ok(store.get(A, 10, 1, 257));
  const all = decodeIpfix(ipfixMessage([set(2, new Bytes().u16(2).u16(0).bytes())]), input(store));
  assert.equal(all.templatesWithdrawn, 1);
  assert.equal(store.templateCount(A), 0);
});

test('IPFIX: options template with scope, its data learned as options records', () => {
  const store = new TemplateStore();
  // scope: selectorId (302, 8 bytes); option: samplingPacketInterval (305, 4 bytes)
  const ot = ipfixTemplateRecord(
    400,
    [
      { id: 302, length: 8 },
      { id: 305, length: 4 },
    ],
    1,
  );
  const od = new Bytes().u64(7n).u32(1000).bytes();
  const res = decodeIpfix(ipfixMessage([set(3, ot), set(400, od)]), input(store));
  assert.deepEqual(res.issues, []);
  assert.equal(res.records.length, 1);
  assert.equal(res.records[0]?.options, true);
  const v = values(res.records[0]);
  assert.equal(v.selector_id, 7);
  assert.equal(v.sampling_packet_interval, 1000);
});

test('IPFIX bad input: each problem counted under its reason, never thrown', () => {
  const store = new TemplateStore();
  const reasons = (buf: Uint8Array) => decodeIpfix(buf, input(store)).issues.map((i) => i.reason);
  assert.deepEqual(reasons(Uint8Array.of(0, 10, 0)), ['truncated']);
  assert.deepEqual(reasons(Uint8Array.of(0, 9, ...new Array(14).fill(0))), ['unknown_version']);
  // Template id below 256.
  assert.deepEqual(
    reasons(ipfixMessage([set(2, ipfixTemplateRecord(255, [{ id: 8, length: 4 }]))])),
    ['bad_template'],
  );
  // A set length that lies (says more than the message has).
  const lying = ipfixMessage([set(2, T256)]);
  lying[18] = 0x0f;
  assert.deepEqual(reasons(lying), ['truncated']);
  // A set length under 4 would loop forever if trusted.
  const tiny = ipfixMessage([set(2, T256)]);
  tiny[18] = 0;
  tiny[19] = 2;
  assert.deepEqual(reasons(tiny), ['bad_length']);
  // Message length beyond the datagram.
  const short = ipfixMessage([set(2, T256)]).subarray(0, 30);
  assert.deepEqual(reasons(short), ['truncated']);
  // A field count that cannot fit in the set.
  const count = new Bytes().u16(256).u16(5000).u16(8).u16(4).bytes();
  assert.deepEqual(reasons(ipfixMessage([set(2, count)])), ['truncated']);
  // Reserved set id.
  assert.deepEqual(reasons(ipfixMessage([set(100, Uint8Array.of(0, 0, 0, 0))])), ['unknown_set']);
  // A variable-length field that runs past its set.
  decodeIpfix(ipfixMessage([set(2, T256)]), input(store));
  const bad = new Bytes()
    .ip4('1.1.1.1')
    .ip4('2.2.2.2')
    .u32(1)
    .u64(1n)
    .u8(6)
    .u8(200)
    .text('abc')
    .bytes();
  assert.deepEqual(reasons(ipfixMessage([set(256, bad)])), ['truncated']);
});
