import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BufferSpares } from './buffer-spares.js';
import { ReplyBuffers, replySlack } from './reply-buffers.js';

const MiB = 1024 * 1024;

/**
 * Runs batches through a worker's reply buffers the way the worker and the main thread
 * do: take, write `n` bytes (growing by doubling when they do not fit, as JsonOut does),
 * reply, and the main thread hands the reply back later (after `held` more batches).
 */
function run(
  replies: ReplyBuffers,
  batches: { requestBytes: number; n: number }[],
  held = 4,
): { replies: ArrayBuffer[]; grown: number } {
  const out: ArrayBuffer[] = [];
  const inFlight: ArrayBuffer[] = [];
  let grown = 0;
  for (const b of batches) {
    let buf = replies.take(b.requestBytes);
    if (buf.byteLength < b.n) {
      // JsonOut doubles as documents are written one by one.
      grown++;
      let size = buf.byteLength;
      while (size < b.n) size *= 2;
      buf = new ArrayBuffer(size);
    }
    const reply = replies.reply(buf, new Uint8Array(buf), b.n, b.requestBytes);
    assert.ok(reply.byteLength >= b.n, 'the reply holds the batch');
    assert.ok(reply.byteLength - b.n <= replySlack(b.n), 'and little more');
    out.push(reply);
    inFlight.push(reply);
    if (inFlight.length > held) replies.keep(inFlight.shift() as ArrayBuffer);
  }
  return { replies: out, grown };
}

test('batches of the same shape are neither copied nor grown after the first', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 16 * 1024, max: 256 * 1024 }), // request bytes
      fc.double({ min: 5, max: 40, noNaN: true }), // document bytes per request byte
      fc.array(fc.double({ min: -0.02, max: 0.02, noNaN: true }), {
        minLength: 20,
        maxLength: 60,
      }), // each batch's ratio off by up to 2%
      fc.array(fc.double({ min: 0.5, max: 1, noNaN: true }), { minLength: 20, maxLength: 60 }),
      (request, ratio, jitter, share) => {
        const replies = new ReplyBuffers(new BufferSpares(8 * MiB, 64 * 1024));
        const batches = jitter.map((j, i) => {
          // Batches differ in size (a read step ends where a datagram does), not in shape.
          const requestBytes = Math.round(request * (share[i % share.length] as number));
          return { requestBytes, n: Math.round(requestBytes * ratio * (1 + j)) };
        });
        // The first batch sets the ratio; jitter is relative to the ratio, and each
        // prediction comes from the batch before, so up to 2% + 2% apart.
        const { grown } = run(replies, batches);
        assert.ok(grown <= 1, `grown ${grown} times`);
        assert.ok(replies.copies <= 1, `copied ${replies.copies} times`);
      },
    ),
  );
});

test('a batch far larger than the last grows, and is copied into a tight buffer', () => {
  const replies = new ReplyBuffers(new BufferSpares(8 * MiB, 64 * 1024));
  run(replies, [
    { requestBytes: 64 * 1024, n: Math.round(1.8 * MiB) },
    { requestBytes: 64 * 1024, n: Math.round(1.8 * MiB) },
  ]);
  const copiesBefore = replies.copies;
  // Three times the documents per request byte (other exporters, longer records).
  const { grown } = run(replies, [{ requestBytes: 64 * 1024, n: Math.round(5.4 * MiB) }]);
  assert.equal(grown, 1);
  assert.equal(replies.copies, copiesBefore + 1);
  // The next batch like it is predicted from it: no growth, no copy.
  const again = run(replies, [{ requestBytes: 64 * 1024, n: Math.round(5.4 * MiB) }]);
  assert.equal(again.grown, 0);
  assert.equal(replies.copies, copiesBefore + 1);
});

test('buffers handed back are written into again', () => {
  const replies = new ReplyBuffers(new BufferSpares(8 * MiB, 64 * 1024));
  const batch = { requestBytes: 64 * 1024, n: Math.round(1.8 * MiB) };
  const { replies: sent } = run(
    replies,
    Array.from({ length: 12 }, () => batch),
    2,
  );
  // After the first few, every reply is one of the buffers handed back.
  const distinct = new Set(sent);
  assert.ok(distinct.size <= 5, `${distinct.size} distinct buffers for 12 batches`);
});

test('spares past the bound let the oldest go, not the newest', () => {
  const spares = new BufferSpares(4 * MiB, 64 * 1024);
  const old = new ArrayBuffer(3 * MiB);
  spares.keep(old);
  const newer = new ArrayBuffer(2 * MiB);
  spares.keep(newer);
  assert.equal(spares.heldBytes, 2 * MiB);
  assert.equal(spares.take(2 * MiB), newer);
  // A buffer larger than the bound is not kept at all.
  spares.keep(new ArrayBuffer(5 * MiB));
  assert.equal(spares.heldBytes, 0);
  // take() respects its upper bound: a spare too large is left for later.
  spares.keep(new ArrayBuffer(3 * MiB));
  const fresh = spares.take(1 * MiB, 1.5 * MiB);
  assert.equal(fresh.byteLength, 1 * MiB);
  assert.equal(spares.heldBytes, 3 * MiB);
});
