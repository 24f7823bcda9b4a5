// `sluice replay`: captures and journal ranges into the real Elasticsearch, idempotently.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer, PCAPS_DIR } from '@sluice/testkit';
import { documentId } from '../src/collect/indexer.js';
import { FlowDecoder } from '../src/flow/decoder.js';
import { documentText } from '../src/flow/document.js';
import type { FlowRecord } from '../src/flow/record.js';
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
  // The ids the collector gives the same journal entries (no instance-id file beside
  // this journal: the instance is derived from its path), so a replay of what the
  // collector indexed adds nothing twice.
  const instance = createHash('sha1').update(dir).digest('hex').slice(0, 8);
  const want = [0, 1, 2, 3].map((k) => documentId(instance, positions[1] as number, k));
  const found = await client.search({ index: ds, size: 10 });
  assert.deepEqual(found.hits.hits.map((h) => h._id).sort(), [...want].sort());
  // Each document is the one the decoder's records make (the collector's document).
  const decoder = new FlowDecoder();
  const datagrams = [...datagramsFromCaptures(FILES)].slice(0, 2);
  const records = datagrams.flatMap(
    (g) => decoder.decode({ ...g, exporterPort: g.exporterPort ?? 0 }).records,
  );
  assert.equal(records.length, 4);
  for (const h of found.hits.hits) {
    const k = want.indexOf(h._id as string);
    assert.deepEqual(h._source, JSON.parse(documentText(records[k] as FlowRecord)), h._id);
  }
});
