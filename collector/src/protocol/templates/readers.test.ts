import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { elementFor } from '../ipfix/registry/index.js';
import { readMs64, readUint64 } from './compiled-dataset.js';
import { decodeValue } from './values.js';

// The inline 8-byte readers of the record readers against decodeValue, the general
// decoder they stand in for.

const bytes8 = fc.oneof(
  fc.uint8Array({ minLength: 8, maxLength: 8 }),
  fc
    .constantFrom(
      0n,
      1n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      2n ** 64n - 1n,
      0x1fffffn << 32n,
    )
    .map((v) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, v);
      return b;
    }),
);

test('readUint64 and readMs64 give what decodeValue gives for 8-byte fields', () => {
  const octets = elementFor(0, 1); // octetDeltaCount, unsigned64
  const start = elementFor(0, 152); // flowStartMilliseconds, dateTimeMilliseconds
  assert.equal(octets.type, 'unsigned64');
  assert.equal(start.type, 'dateTimeMilliseconds');
  fc.assert(
    fc.property(bytes8, fc.nat(8), (b, at) => {
      const buf = new Uint8Array(at + 8);
      buf.set(b, at);
      const view = new DataView(buf.buffer);
      assert.deepStrictEqual(readUint64(view, at), decodeValue(buf, view, at, 8, octets));
      assert.deepStrictEqual(readMs64(view, at), decodeValue(buf, view, at, 8, start));
    }),
    { numRuns: 5000 },
  );
});
