import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv4ToString } from '../protocol/address.js';
import { NetflowRecord } from './netflow-record.js';
import type { ExporterInfo } from './record.js';

// The lazy addresses of NetflowRecord: the text is what ipv4ToString makes of the
// number, and setting the text drops the number, so the writer (which prefers the
// number) and every reader of the text always see the same address.

const exporter: ExporterInfo = {
  address: '192.0.2.1',
  port: 2055,
  protocol: 'netflow',
  version: 9,
  domain: 0,
  sequence: 1,
  uptimeMs: 1000,
  exportTimeMs: 1_700_000_000_000,
};

function text(n: number): string {
  return ipv4ToString(Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255));
}

test('addresses set as numbers read as their text', () => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff), (s, d, h) => {
      const r = new NetflowRecord('flow', exporter, 0, []);
      assert.equal(r.srcAddr, undefined);
      r.setSrcIpv4(s);
      r.setDstIpv4(d);
      r.setNextHopIpv4(h);
      assert.equal(r.srcAddr, text(s));
      assert.equal(r.dstAddr, text(d));
      assert.equal(r.nextHop, text(h));
      assert.equal(r.srcIpv4, s);
      assert.equal(r.dstIpv4, d);
    }),
    { numRuns: 2000 },
  );
});

test('setting an address as text drops its number; setting a number drops old text', () => {
  const r = new NetflowRecord('flow', exporter, 0, []);
  r.setSrcIpv4(0x0a000001);
  assert.equal(r.srcAddr, '10.0.0.1');
  r.srcAddr = '2001:db8::1';
  assert.equal(r.srcIpv4, undefined);
  assert.equal(r.srcAddr, '2001:db8::1');
  r.setSrcIpv4(0x0a000002);
  assert.equal(r.srcAddr, '10.0.0.2');
  r.dstAddr = '::';
  assert.equal(r.dstIpv4, undefined);
  r.setDstIpv4(0);
  assert.equal(r.dstAddr, '0.0.0.0');
  r.nextHop = undefined;
  assert.equal(r.nextHop, undefined);
  r.setNextHopIpv4(0xc0a80101);
  r.nextHop = 'fe80::1';
  assert.equal(r.nextHopIpv4, undefined);
  assert.equal(r.nextHop, 'fe80::1');
});
