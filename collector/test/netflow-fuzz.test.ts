// Property tests: no input makes the NetFlow/IPFIX decoders throw, hang, grow without
// bound, or touch another exporter's state. SLUICE_FUZZ_RUNS raises the number of runs
// (`npm run fuzz` uses millions); the normal suite runs a few thousand.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PCAPS_DIR } from '@sluice/testkit';
import fc from 'fast-check';
import { FlowDecoder } from '../src/flow/decoder.js';
import { datagramsFromCaptures } from '../src/ingest/capture-source.js';
import { fuzzRuns } from './support/fuzz.js';

const RUNS = fuzzRuns(2_000);
const DIR = join(PCAPS_DIR, 'akvorado', 'netflow');

/** Real export datagrams (v5, v9, IPFIX; templates and data) to mutate. */
const SEEDS: Uint8Array[] = [
  ...datagramsFromCaptures(
    [
      'nfv5.pcap',
      'template.pcap',
      'data.pcap',
      'options-template.pcap',
      'options-data.pcap',
      'ipfixprobe-templates.pcap',
      'ipfixprobe-data.pcap',
      'data+templates.pcap',
      'juniper-cpid-template.pcap',
      'juniper-cpid-data.pcap',
    ].map((f) => join(DIR, f)),
  ),
].map((d) => Uint8Array.from(d.bytes));

const LIMITS = {
  maxTemplatesPerExporter: 64,
  maxPendingSetsPerExporter: 16,
  maxPendingBytesPerExporter: 1 << 16,
};

/** A seed datagram with some bytes overwritten and possibly cut short. */
const mutated = fc
  .record({
    seed: fc.integer({ min: 0, max: SEEDS.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    cut: fc.option(fc.nat()),
  })
  .map(({ seed, edits, cut }) => {
    const b = Uint8Array.from(SEEDS[seed] as Uint8Array);
    for (const [pos, v] of edits) b[pos % b.length] = v;
    return cut === null ? b : b.subarray(0, cut % (b.length + 1));
  });

/** Random bytes behind a plausible version field, so decoders get past the first check. */
const headed = fc
  .tuple(fc.constantFrom(1, 5, 7, 9, 10), fc.uint8Array({ maxLength: 1500 }))
  .map(([v, rest]) => Uint8Array.from([0, v, ...rest]));

test('fuzz: mutated real datagrams and random bytes never throw and stay bounded', () => {
  const decoder = new FlowDecoder({ templateLimits: LIMITS });
  fc.assert(
    fc.property(fc.oneof(mutated, headed, fc.uint8Array({ maxLength: 600 })), (bytes) => {
      const res = decoder.decode({ bytes, exporter: '203.0.113.66', receivedMs: 0 });
      assert.ok(Array.isArray(res.records));
      assert.ok(decoder.templates.templateCount('203.0.113.66') <= LIMITS.maxTemplatesPerExporter);
      assert.ok(decoder.templates.pendingCount('203.0.113.66') <= LIMITS.maxPendingSetsPerExporter);
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: truncation at every byte of every seed never throws', () => {
  const decoder = new FlowDecoder();
  for (const seed of SEEDS) {
    for (let n = 0; n <= seed.length; n++) {
      decoder.decode({ bytes: seed.subarray(0, n), exporter: '203.0.113.1', receivedMs: 0 });
    }
  }
  const s = decoder.exporterStats().get('203.0.113.1');
  assert.ok(
    s && Object.values(s.errors).reduce((a, b) => a + (b ?? 0), 0) > 0,
    'truncations are counted',
  );
});

test("fuzz: garbage from one exporter never changes another exporter's decoding", () => {
  const decoder = new FlowDecoder({ templateLimits: LIMITS });
  const [tpl, data] = [
    ...datagramsFromCaptures([join(DIR, 'template.pcap'), join(DIR, 'data.pcap')]),
  ].map((d) => Uint8Array.from(d.bytes));
  assert.ok(tpl && data);
  const victim = '198.51.100.1';
  decoder.decode({ bytes: tpl, exporter: victim, receivedMs: 0 });
  const before = JSON.stringify(
    decoder.decode({ bytes: data, exporter: victim, receivedMs: 0 }).records,
  );
  const templates = decoder.templates.templateCount(victim);
  fc.assert(
    fc.property(mutated, (bytes) => {
      decoder.decode({ bytes, exporter: '203.0.113.99', receivedMs: 0 });
    }),
    { numRuns: Math.min(RUNS, 5_000) },
  );
  assert.equal(decoder.templates.templateCount(victim), templates);
  const after = JSON.stringify(
    decoder.decode({ bytes: data, exporter: victim, receivedMs: 0 }).records,
  );
  assert.equal(after, before);
});
