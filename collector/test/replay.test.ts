// `sluice replay`: captures and journal ranges into the real Elasticsearch, idempotently.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer, PCAPS_DIR } from '@sluice/testkit';
import { FlowDecoder } from '../src/flow/decoder.js';
import { datagramsFromCaptures } from '../src/ingest/capture-source.js';
import { JournalWriter } from '../src/ingest/journal/writer.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const NF = join(PCAPS_DIR, 'akvorado', 'netflow');
const FILES = [join(NF, 'template.pcap'), join(NF, 'data.pcap'), join(NF, 'nfv5.pcap')];

function sluice(...args: string[]) {
  const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(["node", "sluice", ...process.argv.slice(1)]);`;
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    {
      encoding: 'utf8',
    },
  );
  return { code: res.status, out: res.stdout, err: res.stderr };
}

function expected(): number {
  const d = new FlowDecoder();
  let n = 0;
  for (const g of datagramsFromCaptures(FILES)) n += d.decode(g).records.length;
  return n;
}

async function count(client: Client, index: string): Promise<number> {
  await client.indices.refresh({ index });
  return (await client.count({ index })).count;
}

test('replay --pcap indexes every record once; a second replay adds nothing', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  t.after(() => client.close());
  const ds = `logs-netflow.sluicereplay${process.pid}-default`;
  const want = expected();
  const first = sluice(
    'replay',
    '--pcap',
    ...FILES,
    '--elasticsearch',
    es.url,
    '--data-stream',
    ds,
  );
  assert.equal(first.code, 0, first.err);
  assert.match(
    first.out,
    new RegExp(`replayed ${want} documents: ${want} indexed, 0 already there`),
  );
  assert.equal(await count(client, ds), want);
  const again = sluice(
    'replay',
    '--pcap',
    ...FILES,
    '--elasticsearch',
    es.url,
    '--data-stream',
    ds,
  );
  assert.match(
    again.out,
    new RegExp(`replayed ${want} documents: 0 indexed, ${want} already there`),
  );
  assert.equal(await count(client, ds), want);
});

test('replay --journal indexes a journal range', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  t.after(() => client.close());
  const ds = `logs-netflow.sluicejreplay${process.pid}-default`;
  const dir = join(mkdtempSync(join(tmpdir(), 'sluice-replay-')), 'journal');
  const w = JournalWriter.open(dir);
  const positions: number[] = [];
  for (const g of datagramsFromCaptures(FILES))
    positions.push(w.append({ ...g, exporterPort: g.exporterPort ?? 0, localPort: 2055 }));
  w.close();
  // Only the template and the v9 data (4 records), not the v5 datagram after them.
  const res = sluice(
    'replay',
    '--journal',
    dir,
    '--to',
    String(positions[2]),
    '--elasticsearch',
    es.url,
    '--data-stream',
    ds,
  );
  assert.equal(res.code, 0, res.err);
  assert.match(res.out, /replayed 4 documents: 4 indexed/);
  assert.equal(await count(client, ds), 4);
});
