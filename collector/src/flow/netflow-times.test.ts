import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Bytes, set, v9Packet, v9TemplateRecord } from '../../test/support/wire.js';
import { FlowDecoder } from './decoder.js';

// sysUptime-relative flow times (v9 flowStartSysUpTime/flowEndSysUpTime) against the
// header's uptime: a signed 32-bit difference, so the counter wrapping after ~49.7 days
// still gives times just before the export. The expected values are worked out here in
// BigInt arithmetic from the rule, for 4-byte stamps and for 8-byte ones (which can lie
// beyond 32 bits and take the general path).

const U32 = 2n ** 32n;

function signedDelta(uptime: bigint, stamp: bigint): number {
  let d = (uptime - stamp) % U32;
  if (d >= U32 / 2n) d -= U32;
  else if (d < -U32 / 2n) d += U32;
  return Number(d);
}

const UNIX_SECS = 1_700_000_000;

function decodeTimes(uptime: number, stamps: [number | bigint, number | bigint], len: 4 | 8) {
  const tpl = v9TemplateRecord(300, [
    { id: 22, length: len },
    { id: 21, length: len },
    { id: 8, length: 4 },
  ]);
  const data = new Bytes();
  for (const s of stamps) {
    if (len === 4) data.u32(Number(s));
    else data.u64(BigInt(s));
  }
  data.u32(0x0a000001);
  const pkt = v9Packet([set(0, tpl), set(300, data.bytes())], {
    unixSecs: UNIX_SECS,
    uptimeMs: uptime,
  });
  const out = new FlowDecoder().decode({
    bytes: pkt,
    exporter: '192.0.2.1',
    receivedMs: UNIX_SECS * 1000,
  });
  assert.deepEqual(out.issues, []);
  assert.equal(out.records.length, 1);
  return out.records[0];
}

test('4-byte sysUptime stamps: signed 32-bit difference to the header uptime', () => {
  const u32 = fc.oneof(
    fc.nat(0xffffffff),
    fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff),
  );
  fc.assert(
    fc.property(u32, u32, u32, (uptime, start, end) => {
      const r = decodeTimes(uptime, [start, end], 4);
      const exportMs = UNIX_SECS * 1000;
      assert.equal(r?.startMs, exportMs - signedDelta(BigInt(uptime), BigInt(start)));
      assert.equal(r?.endMs, exportMs - signedDelta(BigInt(uptime), BigInt(end)));
    }),
    { numRuns: 3000 },
  );
});

test('8-byte sysUptime stamps beyond 32 bits take the same rule', () => {
  const stamp = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
    fc.constantFrom(0n, U32, U32 + 5n, 3n * U32 - 1n, 2n ** 52n),
  );
  fc.assert(
    fc.property(fc.nat(0xffffffff), stamp, stamp, (uptime, start, end) => {
      const r = decodeTimes(uptime, [start, end], 8);
      const exportMs = UNIX_SECS * 1000;
      assert.equal(r?.startMs, exportMs - signedDelta(BigInt(uptime), start));
      assert.equal(r?.endMs, exportMs - signedDelta(BigInt(uptime), end));
    }),
    { numRuns: 3000 },
  );
});
