// `sluice decode` end to end: the built command line, as a user runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PCAPS_DIR, tsharkFields } from '@sluice/testkit';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const DIR = join(PCAPS_DIR, 'akvorado', 'netflow');

function sluice(...args: string[]) {
  const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(["node", "sluice", ...process.argv.slice(1)]);`;
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return { code: res.status, out: res.stdout, err: res.stderr };
}

test('decode prints one JSON document per record, templates carried from file to file', () => {
  const files = [join(DIR, 'template.pcap'), join(DIR, 'data.pcap')];
  const res = sluice('decode', ...files);
  assert.equal(res.code, 0, res.err);
  const docs = res.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
  // tshark's source addresses of the data packet's records, in order (the oracle).
  const merged = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  spawnSync('mergecap', ['-a', '-w', join(merged, 'm.pcap'), ...files]);
  const srcs = tsharkFields(join(merged, 'm.pcap'), ['cflow.srcaddr'], {
    decodeAs: ['udp.port==2055,cflow'],
  }).flatMap((row) => (row[0] ? row[0].split(',') : []));
  assert.ok(srcs.length > 0);
  assert.deepEqual(
    docs.map((d) => d.source?.ip),
    srcs,
  );
  assert.ok(
    docs.every((d) => typeof d['@timestamp'] === 'string' && d.netflow?.type === 'netflow_flow'),
  );
});

test('decode of data without its template counts template_missing in --stats', () => {
  const res = sluice('decode', '--stats', join(DIR, 'data.pcap'));
  assert.equal(res.code, 0);
  assert.equal(res.out, '', 'no document without a template');
  assert.match(res.err, /exporter \S+: 1 datagrams \(netflow-v9=1\), 0 records/);
  assert.match(res.err, /template_missing=1/);
});

test('decode --port keeps only datagrams sent to that port', () => {
  const nfv5 = join(DIR, 'nfv5.pcap');
  assert.equal(sluice('decode', '--port', '2055', nfv5).out, '');
  const all = sluice('decode', '--port', '9990', nfv5).out.trim().split('\n');
  assert.equal(all.length, 29);
});

test('decode of a damaged capture prints what it could and exits non-zero with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  const bad = join(dir, 'bad.pcap');
  writeFileSync(bad, Buffer.from('this is not a capture file at all'));
  const res = sluice('decode', bad);
  assert.equal(res.code, 1);
  assert.match(res.err, /bad\.pcap/);
});
