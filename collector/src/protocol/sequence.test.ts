import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SequenceTracker } from './sequence.js';

test('sequence tracking: in order, gap, late datagram, restart, 32-bit wrap, unknown size', () => {
  const t = new SequenceTracker();
  assert.equal(t.observe('a', 10, 5).event, 'first');
  assert.equal(t.observe('a', 15, 5).event, 'ok');
  assert.deepEqual(t.observe('a', 30, 5), { event: 'gap', missing: 10 });
  assert.equal(t.observe('a', 25, 5).event, 'duplicate', 'late datagram');
  assert.equal(t.observe('a', 35, 5).event, 'ok', 'a late datagram does not move the expectation');
  assert.equal(t.observe('a', 0, 5).event, 'reset', 'restart from zero');
  assert.equal(t.observe('b', 0xfffffffe, 1).event, 'first');
  assert.equal(t.observe('b', 0xffffffff, 1).event, 'ok');
  assert.equal(t.observe('b', 0, 1).event, 'ok', 'wraps modulo 2^32');
  assert.equal(t.observe('b', 1, undefined).event, 'ok');
  assert.equal(t.observe('b', 9, 1).event, 'unknown', 'after a datagram of unknown size');
  assert.equal(t.observe('b', 10, 1).event, 'ok');
  assert.deepEqual(t.stats('a'), { received: 6, gaps: 1, missing: 10, resets: 1, duplicates: 1 });
});

// The rule written plainly with `%` (the tracker avoids `%` on doubles for speed): both
// must classify every observation of generated streams the same way.
function referenceTracker() {
  const U32 = 0x100000000;
  const expected = new Map<string, number | undefined>();
  return (stream: string, sequence: number, increment: number | undefined) => {
    const next = increment === undefined ? undefined : (sequence + increment) % U32;
    if (!expected.has(stream)) {
      expected.set(stream, next);
      return { event: 'first', missing: 0 };
    }
    const e = expected.get(stream);
    expected.set(stream, next);
    if (e === undefined) return { event: 'unknown', missing: 0 };
    const ahead = (sequence - e + U32) % U32;
    if (ahead === 0) return { event: 'ok', missing: 0 };
    if (ahead < 0x10000000) return { event: 'gap', missing: ahead };
    const behind = U32 - ahead;
    if (sequence >= behind && behind <= 0x10000) {
      expected.set(stream, e);
      return { event: 'duplicate', missing: 0 };
    }
    return { event: 'reset', missing: 0 };
  };
}

test('sequence tracking classifies generated streams as the plain rule does', () => {
  const step = fc.record({
    stream: fc.constantFrom('a', 'b'),
    sequence: fc.oneof(
      fc.nat(0xffffffff),
      fc.constantFrom(0, 1, 0xfffffffe, 0xffffffff),
      fc.nat(100),
    ),
    increment: fc.option(fc.oneof(fc.nat(64), fc.constantFrom(1, 30, 0xffff)), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
      const t = new SequenceTracker();
      const ref = referenceTracker();
      for (const s of steps) {
        assert.deepEqual(
          { ...t.observe(s.stream, s.sequence, s.increment) },
          ref(s.stream, s.sequence, s.increment),
        );
      }
    }),
    { numRuns: 3000 },
  );
});
