import assert from 'node:assert/strict';
import { test } from 'node:test';
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
