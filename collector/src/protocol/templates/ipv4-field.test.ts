import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv4ToString } from '../address.js';
import { elementFor } from '../ipfix/registry/index.js';
import { Ipv4Field, ipv4Text } from './ipv4-field.js';

// ipv4ToString (the text the decoder made before the lazy field) is the oracle.

function bytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

test('ipv4Text gives the text ipv4ToString gives, for generated and edge addresses', () => {
  for (const n of [0, 1, 0xff, 0x0a000001, 0x7f000001, 0xc0a80001, 0xffffffff, 0x64646464]) {
    assert.equal(ipv4Text(n), ipv4ToString(bytes(n)));
  }
  fc.assert(
    fc.property(fc.nat(0xffffffff), (n) => ipv4Text(n) === ipv4ToString(bytes(n))),
    { numRuns: 20000 },
  );
});

test('an Ipv4Field reads as the address text, the same string every time', () => {
  const info = elementFor(0, 8);
  fc.assert(
    fc.property(fc.nat(0xffffffff), (n) => {
      const f = new Ipv4Field(info, n);
      assert.equal(f.info, info);
      assert.equal(f.ipv4, n);
      assert.equal(f.value, ipv4ToString(bytes(n)));
      assert.equal(f.value, f.value);
    }),
    { numRuns: 2000 },
  );
});
