import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { SHA1_MAX_ONE_BLOCK, sha1Base64Into } from './sha1.js';

// node:crypto (OpenSSL) is the oracle for the unrolled one-block SHA-1.

function ours(msg: Uint8Array, off = 0): string {
  const out = new Uint8Array(off + 28);
  sha1Base64Into(msg, msg.length, new DataView(out.buffer), off);
  return Buffer.from(out.subarray(off)).toString('latin1');
}

test('sha1Base64Into equals node:crypto for every length 0..55', () => {
  for (let len = 0; len <= SHA1_MAX_ONE_BLOCK; len++) {
    const msg = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len * 11) & 0xff);
    assert.equal(ours(msg), createHash('sha1').update(msg).digest('base64'), `length ${len}`);
  }
});

test('sha1Base64Into equals node:crypto on generated messages, at any output offset', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: SHA1_MAX_ONE_BLOCK }),
      fc.nat({ max: 40 }),
      (msg, off) => ours(msg, off) === createHash('sha1').update(msg).digest('base64'),
    ),
    { numRuns: 5000 },
  );
});

test('sha1Base64Into hashes only msg[0..len) of a longer buffer', () => {
  const msg = Uint8Array.from({ length: 40 }, (_, i) => 255 - i);
  const out = new Uint8Array(28);
  sha1Base64Into(msg, 13, new DataView(out.buffer), 0);
  const want = createHash('sha1').update(msg.subarray(0, 13)).digest('base64');
  assert.equal(Buffer.from(out).toString('latin1'), want);
});

test('sha1Base64Into refuses messages longer than one block', () => {
  assert.throws(
    () => sha1Base64Into(new Uint8Array(56), 56, new DataView(new ArrayBuffer(28)), 0),
    RangeError,
  );
});
