import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bytes } from '../../../test/support/wire.js';
import { TemplateStore } from '../templates/store.js';
import { decodeNetflowLegacy } from './legacy.js';

const input = { exporter: '192.0.2.9', receivedMs: 0, store: new TemplateStore() };

function v5(count: number, records: number, sampling = 0): Uint8Array {
  const b = new Bytes()
    .u16(5)
    .u16(count)
    .u32(5000)
    .u32(1_700_000_000)
    .u32(500_000_000)
    .u32(1234)
    .u8(1)
    .u8(2)
    .u16(sampling);
  for (let i = 0; i < records; i++) {
    b.ip4(`10.0.0.${i + 1}`)
      .ip4('10.0.1.1')
      .ip4('0.0.0.0')
      .u16(3)
      .u16(4)
      .u32(10)
      .u32(1000)
      .u32(4000)
      .u32(4900);
    b.u16(1024 + i)
      .u16(80)
      .u8(0)
      .u8(0x1b)
      .u8(6)
      .u8(0)
      .u16(65001)
      .u16(65002)
      .u8(24)
      .u8(16)
      .u16(0);
  }
  return b.bytes();
}

test('NetFlow v5: header, sampling, engine and every record field', () => {
  const res = decodeNetflowLegacy(v5(2, 2, (1 << 14) | 100), input);
  assert.deepEqual(res.issues, []);
  assert.equal(res.records.length, 2);
  assert.deepEqual(res.sampling, { mode: 1, interval: 100 });
  assert.equal(res.ctx?.domain, (1 << 8) | 2, 'engine type and id');
  assert.equal(res.ctx?.exportTimeMs, 1_700_000_000_500);
  assert.equal(res.sequenceIncrement, 2, 'v5 sequence numbers count flows');
  const f = Object.fromEntries((res.records[1]?.fields ?? []).map((x) => [x.info.field, x.value]));
  assert.equal(f.source_ipv4_address, '10.0.0.2');
  assert.equal(f.source_transport_port, 1025);
  assert.equal(f.tcp_control_bits, 0x1b);
  assert.equal(f.protocol_identifier, 6);
  assert.equal(f.bgp_source_as_number, 65001);
  assert.equal(f.destination_ipv4_prefix_length, 16);
  assert.equal(f.flow_end_sys_up_time, 4900);
});

test('NetFlow v5: a count that overflows the datagram decodes what fits and says so', () => {
  const res = decodeNetflowLegacy(v5(5, 2), input);
  assert.equal(res.records.length, 2);
  assert.deepEqual(
    res.issues.map((i) => i.reason),
    ['count_overflow'],
  );
});

test('NetFlow v1/v7 layouts and unknown versions', () => {
  const v1 = new Bytes().u16(1).u16(1).u32(1).u32(2).u32(3);
  v1.ip4('10.2.2.2').ip4('10.3.3.3').ip4('10.4.4.4').u16(1).u16(2).u32(5).u32(500).u32(0).u32(1);
  v1.u16(53).u16(5353).u16(0).u8(17).u8(0x10).u8(0).raw(new Array(7).fill(0));
  const r1 = decodeNetflowLegacy(v1.bytes(), input);
  assert.deepEqual(r1.issues, []);
  const f1 = Object.fromEntries((r1.records[0]?.fields ?? []).map((x) => [x.info.field, x.value]));
  assert.equal(f1.protocol_identifier, 17);
  assert.equal(f1.ip_class_of_service, 0x10);
  assert.equal(f1.destination_transport_port, 5353);
  assert.equal(r1.sequenceIncrement, undefined, 'v1 has no sequence numbers');

  const v7 = new Bytes().u16(7).u16(1).u32(1).u32(2).u32(3).u32(9).u32(0);
  v7.ip4('10.2.2.2').ip4('10.3.3.3').ip4('10.4.4.4').u16(1).u16(2).u32(5).u32(500).u32(0).u32(1);
  v7.u16(53).u16(5353).u8(0).u8(0).u8(17).u8(0).u16(1).u16(2).u8(8).u8(8).u16(0).ip4('10.5.5.5');
  const r7 = decodeNetflowLegacy(v7.bytes(), input);
  assert.deepEqual(r7.issues, []);
  const f7 = Object.fromEntries((r7.records[0]?.fields ?? []).map((x) => [x.info.field, x.value]));
  assert.equal(f7.router_sc, '10.5.5.5');
  assert.equal(r7.ctx?.sequence, 9);

  assert.deepEqual(
    decodeNetflowLegacy(Uint8Array.of(0, 6, 0, 0), input).issues.map((i) => i.reason),
    ['unknown_version'],
  );
});
