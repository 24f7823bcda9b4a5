import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PCAPS_DIR } from '@sluice/testkit';
import { datagramsFromCaptures } from '../ingest/capture-source.js';
import { decodeSflow } from '../protocol/sflow/index.js';
import { SamplingRates } from './sampling.js';
import { SflowProducer } from './sflow-producer.js';

// The producer makes `sflow.sample`, `sflow.header`, `sflow.switch`, `sflow.router` and
// `sflow.gateway` as sealed class
// instances (sflow-extra.ts) so the writer knows their members. The document tests
// compare the writer with JSON.stringify of the same instances, which cannot see a
// member the producer got wrong; here each is held to the text of a plain object built
// in the test from the decoded sample's own fields.

/**
 * A decoded record as the document shows it: every member but type, enterprise and
 * format (at any depth), undefined ones left out, keys in snake_case.
 */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined || k === 'type' || k === 'enterprise' || k === 'format') continue;
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = plain(x);
  }
  return out;
}

test('sFlow extras made as classes have the JSON of the decoded sample fields', () => {
  const dir = join(PCAPS_DIR, 'akvorado', 'sflow');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'))
    .map((f) => join(dir, f));
  const producer = new SflowProducer(new SamplingRates());
  let samples = 0;
  let headers = 0;
  const counts = new Map<string, number>();
  for (const d of datagramsFromCaptures(files)) {
    const res = decodeSflow(d.bytes);
    const records = producer.produce(res, d.exporter, d.exporterPort, d.receivedMs);
    const flows = (res.datagram?.samples ?? []).filter((s) => s.kind === 'flow');
    const produced = records.filter((r) => r.kind === 'flow');
    assert.equal(produced.length, flows.length);
    flows.forEach((s, i) => {
      const extra = produced[i]?.extra as Record<string, object>;
      const want = {
        sequence: s.sequenceNumber,
        source_id_type: s.sourceIdType,
        source_id_index: s.sourceIdIndex,
        sampling_rate: s.samplingRate,
        sample_pool: s.samplePool,
        drops: s.drops,
        input: { format: s.inputFormat, value: s.inputValue },
        output: { format: s.outputFormat, value: s.outputValue },
        expanded: s.expanded,
      };
      assert.equal(JSON.stringify(extra.sample), JSON.stringify(want));
      assert.ok(Object.isSealed(extra.sample));
      samples++;
      for (const rec of s.records) {
        if (rec.type === 'raw_header') {
          const h = {
            protocol: rec.headerProtocol,
            frame_length: rec.frameLength,
            stripped: rec.stripped,
            length: rec.header.length,
          };
          assert.equal(JSON.stringify(extra.header), JSON.stringify(h));
          assert.ok(Object.isSealed(extra.header));
          headers++;
        } else if (
          rec.type === 'extended_switch' ||
          rec.type === 'extended_router' ||
          rec.type === 'extended_gateway'
        ) {
          const key = rec.type.slice('extended_'.length);
          assert.equal(JSON.stringify(extra[key]), JSON.stringify(plain(rec)), key);
          assert.ok(Object.isSealed(extra[key]), key);
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
    });
  }
  const [switches, routers, gateways] = ['switch', 'router', 'gateway'].map((k) => counts.get(k));
  assert.ok(samples > 0 && headers > 0, `${samples} samples, ${headers} headers`);
  assert.ok(switches && routers && gateways, `${switches} ${routers} ${gateways}`);
});
