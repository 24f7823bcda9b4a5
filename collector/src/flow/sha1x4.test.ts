import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_GROUPS, OUTPUT_AT, sha1x4 } from './sha1x4.js';

/** The one padded SHA-1 block of a message of at most 55 bytes, as 16 big-endian words. */
function block(msg: Uint8Array): number[] {
  const w = new Array<number>(16).fill(0);
  msg.forEach((b, i) => {
    w[i >> 2] = (w[i >> 2] as number) | (b << (24 - ((i & 3) << 3)));
  });
  const n = msg.length;
  w[n >> 2] = (w[n >> 2] as number) | (0x80 << (24 - ((n & 3) << 3)));
  w[15] = n * 8;
  return w.map((x) => x | 0);
}

test('the SIMD SHA-1 module gives node:crypto digests for every lane and group', () => {
  const h = sha1x4();
  assert.ok(h, 'WebAssembly SIMD is available in this Node');
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 55 }), { minLength: 1, maxLength: MAX_GROUPS * 4 }),
      (msgs) => {
        msgs.forEach((m, j) => {
          const w = block(m);
          for (let i = 0; i < 16; i++) h.words[(j >> 2) * 64 + i * 4 + (j & 3)] = w[i] as number;
        });
        h.run((msgs.length + 3) >> 2);
        msgs.forEach((m, j) => {
          const got = Buffer.alloc(20);
          for (let i = 0; i < 5; i++) {
            got.writeInt32BE(h.words[OUTPUT_AT + (j >> 2) * 20 + i * 4 + (j & 3)] as number, i * 4);
          }
          assert.equal(
            got.toString('hex'),
            createHash('sha1').update(m).digest('hex'),
            `message ${j}`,
          );
        });
      },
    ),
    { numRuns: 60 },
  );
});

test('run(0) writes nothing', () => {
  const h = sha1x4();
  assert.ok(h);
  h.words.fill(7, OUTPUT_AT, OUTPUT_AT + 20);
  h.run(0);
  assert.deepEqual([...h.words.subarray(OUTPUT_AT, OUTPUT_AT + 20)], new Array(20).fill(7));
});
