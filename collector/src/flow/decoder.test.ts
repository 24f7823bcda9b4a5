import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Bytes,
  ipfixMessage,
  ipfixTemplateRecord,
  set,
  v9Packet,
  v9TemplateRecord,
} from '../../test/support/wire.js';
import { loadTemplates, saveTemplates } from '../ingest/template-file.js';
import { FlowDecoder } from './decoder.js';
import { toDocument } from './document.js';

const T = ipfixTemplateRecord(256, [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 1, length: 8 },
  { id: 2, length: 8 },
]);
const DATA = set(256, new Bytes().ip4('10.0.0.1').ip4('10.0.0.2').u64(1000n).u64(10n).bytes());
const dg = (bytes: Uint8Array, exporter = '192.0.2.1', receivedMs = 1_000) => ({
  bytes,
  exporter,
  receivedMs,
});

test('templates survive a restart through the state file', () => {
  const before = new FlowDecoder();
  before.decode(dg(ipfixMessage([set(2, T)])));
  const v9t = v9TemplateRecord(300, [{ id: 7, length: 2 }]);
  before.decode(dg(v9Packet([set(0, v9t)], { sourceId: 4 }), '192.0.2.2'));
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-tpl-')), 'state', 'templates.json');
  saveTemplates(path, before.snapshotTemplates());

  const after = new FlowDecoder();
  const loaded = loadTemplates(path);
  assert.ok(loaded.ok && loaded.snapshot);
  assert.equal(after.restoreTemplates(loaded.snapshot), 2);
  const ipfix = after.decode(dg(ipfixMessage([DATA])));
  assert.deepEqual(ipfix.issues, []);
  assert.equal(ipfix.records.length, 1);
  assert.equal(ipfix.records[0]?.srcAddr, '10.0.0.1');
  const v9 = after.decode(
    dg(v9Packet([set(300, new Bytes().u16(8080).bytes(), 4)], { sourceId: 4 }), '192.0.2.2'),
  );
  assert.equal(v9.records[0]?.srcPort, 8080);
});

test('a corrupt or missing state file is reported, not fatal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tpl-'));
  assert.deepEqual(loadTemplates(join(dir, 'none.json')), { ok: true, snapshot: undefined });
  writeFileSync(join(dir, 'bad.json'), '{"format":1,"exp');
  const bad = loadTemplates(join(dir, 'bad.json'));
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, /bad\.json is not valid JSON/);
});

test("one exporter's template flood is refused at its own bound and never evicts another's", () => {
  const decoder = new FlowDecoder({ templateLimits: { maxTemplatesPerExporter: 10 } });
  decoder.decode(dg(ipfixMessage([set(2, T)]), '192.0.2.50'));
  const flood: Uint8Array[] = [];
  for (let id = 256; id < 256 + 40; id++)
    flood.push(ipfixTemplateRecord(id, [{ id: 7, length: 2 }]));
  const res = decoder.decode(
    dg(ipfixMessage([set(2, Uint8Array.from(flood.flatMap((x) => [...x])))]), '192.0.2.66'),
  );
  assert.equal(decoder.templates.templateCount('192.0.2.66'), 10);
  assert.equal(res.issues.filter((i) => i.reason === 'limit_exceeded').length, 30);
  assert.equal(decoder.exporterStats().get('192.0.2.66')?.errors.limit_exceeded, 30);
  const other = decoder.decode(dg(ipfixMessage([DATA]), '192.0.2.50'));
  assert.equal(other.records.length, 1, 'the other exporter still decodes');
});

test('held data is bounded per exporter, and expiry counts template_missing for its exporter', () => {
  const decoder = new FlowDecoder({
    templateLimits: { maxPendingSetsPerExporter: 3, pendingTtlMs: 500 },
  });
  for (let i = 0; i < 5; i++) decoder.decode(dg(ipfixMessage([DATA]), '192.0.2.9', 1_000));
  assert.equal(decoder.templates.pendingCount('192.0.2.9'), 3);
  assert.equal(decoder.exporterStats().get('192.0.2.9')?.errors.template_missing, 2);
  assert.equal(decoder.expire(1_400), 0);
  assert.equal(decoder.expire(1_600), 3);
  assert.equal(decoder.exporterStats().get('192.0.2.9')?.errors.template_missing, 5);
});

test('sequence gaps and resets are counted per exporter and domain, by each format rule', () => {
  const decoder = new FlowDecoder();
  decoder.decode(dg(ipfixMessage([set(2, T)], { sequence: 100 })));
  decoder.decode(dg(ipfixMessage([DATA], { sequence: 100 }))); // templates do not count
  decoder.decode(dg(ipfixMessage([DATA], { sequence: 101 })));
  decoder.decode(dg(ipfixMessage([DATA], { sequence: 105 }))); // 3 records lost
  decoder.decode(dg(ipfixMessage([DATA], { sequence: 1 }))); // exporter restarted
  const s = decoder.exporterStats().get('192.0.2.1');
  assert.equal(s?.sequenceGaps, 1);
  assert.equal(s?.sequenceMissing, 3);
  assert.equal(s?.sequenceResets, 1);
});

test('sampling: configured override wins, default fills in for silent exporters', () => {
  const decoder = new FlowDecoder({
    sampling: { defaultRate: 64, overrides: new Map([['192.0.2.77', 1000]]) },
  });
  decoder.decode(dg(ipfixMessage([set(2, T)]), '192.0.2.77'));
  decoder.decode(dg(ipfixMessage([set(2, T)]), '192.0.2.78'));
  const o = decoder.decode(dg(ipfixMessage([DATA]), '192.0.2.77')).records[0];
  const d = decoder.decode(dg(ipfixMessage([DATA]), '192.0.2.78')).records[0];
  assert.ok(o && d);
  const od = toDocument(o) as {
    sluice: { sampling: { rate: number; source: string }; scaled: { bytes: number } };
  };
  assert.deepEqual(od.sluice.sampling, { rate: 1000, source: 'config-override' });
  assert.equal(od.sluice.scaled.bytes, 1_000_000);
  const dd = toDocument(d) as {
    sluice: { sampling: { rate: number; source: string } };
    network: { bytes: number };
  };
  assert.deepEqual(dd.sluice.sampling, { rate: 64, source: 'config-default' });
  assert.equal(dd.network.bytes, 1000, 'network.bytes stays as sent');
});

test('sampling: each record takes its own sampler rate, and a rate learned later serves later packets', () => {
  // Options template 300: scope observationDomainId (149), then flowSamplerId (48) and
  // samplingInterval (34); data template 257: addresses, octets, flowSamplerId.
  const options = ipfixTemplateRecord(
    300,
    [
      { id: 149, length: 4 },
      { id: 48, length: 4 },
      { id: 34, length: 4 },
    ],
    1,
  );
  const data = ipfixTemplateRecord(257, [
    { id: 8, length: 4 },
    { id: 12, length: 4 },
    { id: 1, length: 8 },
    { id: 48, length: 4 },
  ]);
  const rates = (pairs: [number, number][]) => {
    const b = new Bytes();
    for (const [sampler, rate] of pairs) b.u32(1).u32(sampler).u32(rate);
    return set(300, b.bytes());
  };
  const flows = (samplers: number[]) => {
    const b = new Bytes();
    for (const s of samplers) b.ip4('10.0.0.1').ip4('10.0.0.2').u64(1000n).u32(s);
    return set(257, b.bytes());
  };
  const decoder = new FlowDecoder();
  const exporter = '192.0.2.90';
  decoder.decode(dg(ipfixMessage([set(3, options), set(2, data)]), exporter));
  decoder.decode(
    dg(
      ipfixMessage([
        rates([
          [1, 10],
          [2, 100],
        ]),
      ]),
      exporter,
    ),
  );
  const first = decoder.decode(dg(ipfixMessage([flows([1, 2, 2, 3, 1])]), exporter)).records;
  // Sampler 3 announced nothing: the domain's latest rate (sampler 2's) serves it.
  assert.deepEqual(
    first.map((r) => [r.samplingRate, r.samplingSource]),
    [
      [10, 'options'],
      [100, 'options'],
      [100, 'options'],
      [100, 'options'],
      [10, 'options'],
    ],
  );
  // The same question as the last record's, asked in a later packet: answered anew.
  decoder.decode(dg(ipfixMessage([rates([[1, 20]])]), exporter));
  const later = decoder.decode(dg(ipfixMessage([flows([1])]), exporter)).records;
  assert.deepEqual(
    later.map((r) => [r.samplingRate, r.samplingSource]),
    [[20, 'options']],
  );
});
