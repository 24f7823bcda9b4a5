// decode(encode(x)) == x for the sFlow v5 packet-sample encoder, property-tested against
// Sluice's own sFlow decoder (tested against tshark and real agents elsewhere).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv4ToString, ipv6ToString } from '../address.js';
import { decodeSflow } from './decode.js';
import { encodeSflowV5, type SflowPacketSample, sflowSampleBytes } from './encode.js';

const RUNS = Number(process.env.SLUICE_FUZZ_RUNS ?? 200);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ifIndex = fc.integer({ min: 0, max: 0x3fffffff });

const sample: fc.Arbitrary<SflowPacketSample> = fc.record({
  sequence: u32,
  sourceIndex: fc.integer({ min: 0, max: 0xffffff }),
  samplingRate: u32,
  samplePool: u32,
  drops: u32,
  input: ifIndex,
  output: ifIndex,
  headerProtocol: fc.constantFrom(1, 11, 12),
  frameLength: u32,
  stripped: fc.integer({ min: 0, max: 4 }),
  header: fc.uint8Array({ minLength: 0, maxLength: 128 }),
});

const agent = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => ipv4ToString(b)),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ipv6ToString(b)),
);

test('sFlow v5 flow samples with sampled headers round-trip', () => {
  fc.assert(
    fc.property(
      agent,
      u32,
      u32,
      u32,
      fc.array(sample, { maxLength: 8 }),
      (agentAddress, subAgentId, sequence, uptimeMs, samples) => {
        const bytes = encodeSflowV5({ agentAddress, subAgentId, sequence, uptimeMs }, samples);
        const header = agentAddress.includes(':') ? 40 : 28;
        assert.equal(
          bytes.length,
          header + samples.reduce((n, s) => n + sflowSampleBytes(s.header.length), 0),
        );
        const res = decodeSflow(bytes, { decodeHeaders: false });
        assert.deepEqual(res.errors, []);
        const dg = res.datagram;
        assert.ok(dg);
        assert.deepEqual(
          [dg.version, dg.agentAddress, dg.subAgentId, dg.sequenceNumber, dg.uptimeMs],
          [5, agentAddress, subAgentId, sequence, uptimeMs],
        );
        assert.equal(dg.samples.length, samples.length);
        dg.samples.forEach((got, i) => {
          const s = samples[i] as SflowPacketSample;
          assert.equal(got.kind, 'flow');
          if (got.kind !== 'flow') return;
          assert.deepEqual(
            [
              got.sequenceNumber,
              got.sourceIdType,
              got.sourceIdIndex,
              got.samplingRate,
              got.samplePool,
              got.drops,
              got.inputFormat,
              got.inputValue,
              got.outputFormat,
              got.outputValue,
            ],
            [
              s.sequence,
              0,
              s.sourceIndex,
              s.samplingRate,
              s.samplePool,
              s.drops,
              'single',
              s.input,
              'single',
              s.output,
            ],
          );
          const rec = got.records[0];
          assert.equal(got.records.length, 1);
          assert.ok(rec && rec.type === 'raw_header');
          assert.deepEqual(
            [rec.headerProtocol, rec.frameLength, rec.stripped, [...rec.header]],
            [s.headerProtocol, s.frameLength, s.stripped, [...s.header]],
          );
        });
      },
    ),
    { numRuns: RUNS },
  );
});
