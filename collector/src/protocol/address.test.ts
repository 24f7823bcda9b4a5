import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv6ToString } from './address.js';

// The WHATWG URL serializer (Node's URL) is the oracle for IPv6 text: lower-case hex
// without leading zeros and the first longest run of two or more zero groups as `::`,
// as RFC 5952 asks. It writes IPv4-mapped addresses in hex, so those are left out.

function oracle(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

const mapped = (b: Uint8Array) =>
  b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

test('ipv6ToString gives RFC 5952 text for generated addresses', () => {
  // Words drawn from zero, small, one-byte-high and full values, so zero runs and
  // every digit count occur.
  const word = fc.oneof(
    fc.constant(0),
    fc.nat(0xf),
    fc.nat(0xff),
    fc.integer({ min: 0x100, max: 0xfff }),
    fc.nat(0xffff),
  );
  fc.assert(
    fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
      const b = new Uint8Array(16);
      words.forEach((w, i) => {
        b[2 * i] = w >>> 8;
        b[2 * i + 1] = w & 0xff;
      });
      if (mapped(b)) return;
      assert.equal(ipv6ToString(b), oracle(b));
    }),
    { numRuns: 20000 },
  );
});
