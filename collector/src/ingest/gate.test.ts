import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExporterGate } from './gate.js';

test('gate: allow-list, per-exporter rate with refill, bounded exporters', () => {
  const g = new ExporterGate(['192.0.2.0/24'], 10, 2);
  assert.equal(g.check('198.51.100.1', 0), 'not_allowed');
  for (let i = 0; i < 10; i++) assert.equal(g.check('192.0.2.1', 0), 'accepted');
  assert.equal(g.check('192.0.2.1', 0), 'rate_limited', 'one second of burst');
  assert.equal(g.check('192.0.2.2', 0), 'accepted', 'another exporter has its own budget');
  assert.equal(g.check('192.0.2.3', 0), 'too_many_exporters');
  assert.equal(g.check('192.0.2.1', 500), 'accepted', 'half a second refills five');
});
