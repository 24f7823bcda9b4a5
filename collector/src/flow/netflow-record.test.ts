import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv4ToString } from '../protocol/address.js';
import { elementFor } from '../protocol/ipfix/registry/index.js';
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

function empty(): NetflowRecord {
  return new NetflowRecord('flow', exporter, 0, { infos: [], ipv4: new Uint8Array(0) }, []);
}

function text(n: number): string {
  return ipv4ToString(Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255));
}

test('addresses set as numbers read as their text', () => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff), (s, d, h) => {
      const r = empty();
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
  const r = empty();
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

test('fields are the decoded values with their elements; setting fields drops the values', () => {
  const infos = [elementFor(0, 8), elementFor(0, 7), elementFor(0, 1)];
  const layout = { infos, ipv4: Uint8Array.of(1, 0, 0) };
  const values = [0xc0000201, 443, 1234n];
  const r = new NetflowRecord('flow', exporter, 0, layout, values);
  assert.equal(r.layout, layout);
  assert.equal(r.values, values);
  assert.deepEqual(
    r.fields.map((f) => [f.info, f.value]),
    [
      [infos[0], '192.0.2.1'],
      [infos[1], 443],
      [infos[2], 1234n],
    ],
  );
  assert.equal(r.fields[0]?.ipv4, 0xc0000201);
  assert.equal(r.fields, r.fields, 'made once');
  const replaced = [{ info: infos[1] as (typeof infos)[number], value: 80 }];
  r.fields = replaced;
  assert.equal(r.fields, replaced);
  assert.equal(r.layout, undefined);
  assert.equal(r.values, undefined);
});

test('recycle resets every member a new record starts without', () => {
  // Every own member (a member added later included) set to something, then recycled:
  // what a new record has must come back, so a recycled record carries nothing over.
  const fresh = empty();
  const r = empty();
  for (const key of Object.keys(r)) (r as unknown as Record<string, unknown>)[key] = 'stale';
  r.values = [1, 2, 3];
  const layout = { infos: [], ipv4: new Uint8Array(0) };
  const other: ExporterInfo = { ...exporter, address: '192.0.2.9' };
  r.recycle('flow', other, 5, layout);
  for (const key of Object.keys(fresh)) {
    const got = (r as unknown as Record<string, unknown>)[key];
    if (key === 'values') assert.deepEqual(got, [1, 2, 3], 'values are left to the caller');
    else if (key === 'exporter') assert.equal(got, other);
    else if (key === 'receivedMs') assert.equal(got, 5);
    else if (key === 'layout') assert.equal(got, layout);
    else assert.equal(got, (fresh as unknown as Record<string, unknown>)[key], key);
  }
});
