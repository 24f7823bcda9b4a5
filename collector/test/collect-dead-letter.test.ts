// Issue 4, item 9: a mapping conflict through the running collector. The data stream was
// created before Sluice came (another shipper, an older setup) with one field mapped
// differently: `netflow.enterprise_32473_7` as `long`. Sluice writes an enterprise element
// it has no type for as hex text, which that mapping cannot take. An exporter sends IPFIX
// with two templates, one carrying that element and one not: every record of the first
// must land in the dead-letter file with Elasticsearch's reason and be counted in the
// metrics; every record of the second must be indexed. Expected values are what the test
// itself sent.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer, waitFor } from '@sluice/testkit';
import pino from 'pino';
import { Collector } from '../src/collect/collector.js';
import { resolveConfig, validateConfig } from '../src/config/load.js';
import { Bytes, ipfixMessage, ipfixTemplateRecord, set } from './support/wire.js';

const EXPORTER = '127.0.0.5';
/** 32473: the documentation PEN (RFC 5612). */
const PEN = 32473;
const FIELD = `enterprise_${PEN}_7`;
const MESSAGES = 10;
const CONFLICTING_PER_MESSAGE = 2;
const GOOD_PER_MESSAGE = 3;

interface Sent {
  src: string;
  value: string | undefined;
}

/** IPFIX messages: templates 300 (with the enterprise element) and 301 (without). */
function messages(): { datagrams: Uint8Array[]; records: Sent[] } {
  const base = [
    { id: 8, length: 4 }, // sourceIPv4Address
    { id: 12, length: 4 }, // destinationIPv4Address
    { id: 2, length: 8 }, // packetDeltaCount
  ];
  const templates = set(
    2,
    new Uint8Array([
      ...ipfixTemplateRecord(300, [...base, { id: 7, length: 4, enterprise: PEN }]),
      ...ipfixTemplateRecord(301, base),
    ]),
  );
  const datagrams: Uint8Array[] = [];
  const records: Sent[] = [];
  let n = 0;
  for (let m = 0; m < MESSAGES; m++) {
    const conflicting = new Bytes();
    for (let i = 0; i < CONFLICTING_PER_MESSAGE; i++, n++) {
      const src = `10.5.${m}.${i + 1}`;
      // 0xab first: the hex text always has a letter, so `long` can never take it.
      const value = 0xab000000 + n;
      conflicting
        .ip4(src)
        .ip4('192.0.2.1')
        .u64(BigInt(n + 1))
        .u32(value);
      records.push({ src, value: value.toString(16) });
    }
    const good = new Bytes();
    for (let i = 0; i < GOOD_PER_MESSAGE; i++, n++) {
      const src = `10.6.${m}.${i + 1}`;
      good
        .ip4(src)
        .ip4('192.0.2.1')
        .u64(BigInt(n + 1));
      records.push({ src, value: undefined });
    }
    const sets = [set(300, conflicting.bytes()), set(301, good.bytes())];
    datagrams.push(
      ipfixMessage(m === 0 ? [templates, ...sets] : sets, {
        domain: 7,
        sequence: m * (CONFLICTING_PER_MESSAGE + GOOD_PER_MESSAGE),
        exportSecs: 1_714_000_000 + m,
      }),
    );
  }
  return { datagrams, records };
}

interface DeadLetterLine {
  id: string;
  status: number;
  error: { type: string; reason: string; caused_by?: unknown };
  source: { source?: { ip?: string }; netflow?: Record<string, unknown> };
}

function deadLetters(dir: string): DeadLetterLine[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.ndjson'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DeadLetterLine);
}

test('collect: a mapping conflict goes to the dead-letter file with the reason, is counted, and the other records are indexed', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceconflict${process.pid}-default`;
  const foreign = `sluice-foreign-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-conflict-'));
  t.after(async () => {
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.indices.deleteIndexTemplate({ name: foreign }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // 1. The data stream as someone else made it: the field is a number there. Their
  //    template stays (Elasticsearch keeps a template while a data stream uses it).
  await client.indices.putIndexTemplate({
    name: foreign,
    index_patterns: [dataStream],
    data_stream: {},
    priority: 500,
    template: {
      mappings: { properties: { netflow: { properties: { [FIELD]: { type: 'long' } } } } },
    },
  });
  await client.index({
    index: dataStream,
    op_type: 'create',
    document: { '@timestamp': new Date().toISOString(), netflow: { [FIELD]: 1 } },
    refresh: true,
  });

  // 2. The collector, writing to that data stream.
  const dataDir = join(dir, 'data');
  const collector = await Collector.start(
    resolveConfig(
      validateConfig({
        listen: [{ port: 0, address: '127.0.0.1' }],
        data_dir: dataDir,
        workers: 1,
        http: { listen: '127.0.0.1:0' },
        elasticsearch: { url: es.url, data_stream: dataStream, bulk_interval: 200 },
        journal: { fsync: 'never' },
      }),
    ),
    pino({ level: 'silent' }),
  );
  t.after(() => collector.stop());
  await waitFor(async () => (collector.status().elasticsearch === 'ready' ? true : undefined), {
    what: 'the collector ready for Elasticsearch',
    timeoutMs: 30_000,
  });
  const mapping = await client.indices.getFieldMapping({
    index: dataStream,
    fields: `netflow.${FIELD}`,
  });
  const types = Object.values(mapping).map(
    (m) =>
      (m.mappings[`netflow.${FIELD}`]?.mapping as Record<string, { type?: string }> | undefined)?.[
        FIELD
      ]?.type,
  );
  assert.deepEqual(
    [...new Set(types)],
    ['long'],
    'precondition: the field is a long in the stream',
  );

  // 3. The exporter's records.
  const { datagrams, records } = messages();
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind({ address: EXPORTER, port: 0 }, () => r()));
  for (const d of datagrams) {
    await new Promise<void>((r, j) =>
      sock.send(d, collector.ports[0] as number, '127.0.0.1', (e) => (e ? j(e) : r())),
    );
  }
  sock.close();

  const conflicting = records.filter((r) => r.value !== undefined);
  const good = records.filter((r) => r.value === undefined);
  const dlqDir = join(dataDir, 'dead-letter');
  await waitFor(async () => (deadLetters(dlqDir).length >= conflicting.length ? true : undefined), {
    what: `${conflicting.length} dead letters`,
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  const countGood = async () => {
    await client.indices.refresh({ index: dataStream });
    return (
      await client.count({
        index: dataStream,
        query: { term: { 'netflow.exporter.ip': EXPORTER } },
      })
    ).count;
  };
  await waitFor(async () => ((await countGood()) >= good.length ? true : undefined), {
    what: `${good.length} good documents`,
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  await new Promise((r) => setTimeout(r, 1_000));

  // Indexed: exactly the records without the element.
  assert.equal(await countGood(), good.length, 'documents indexed');
  const hits = await client.search<{ source?: { ip?: string } }>({
    index: dataStream,
    size: 100,
    query: { term: { 'netflow.exporter.ip': EXPORTER } },
    _source: ['source.ip'],
  });
  assert.deepEqual(
    hits.hits.hits.map((h) => h._source?.source?.ip).sort(),
    good.map((r) => r.src).sort(),
    'the indexed documents are the records without the conflicting field',
  );

  // Dead letters: each conflicting record once, with the document and the reason.
  const lines = deadLetters(dlqDir);
  assert.equal(lines.length, conflicting.length, 'dead letters');
  assert.deepEqual(
    lines.map((l) => `${l.source.source?.ip} ${l.source.netflow?.[FIELD]}`).sort(),
    conflicting.map((r) => `${r.src} ${r.value}`).sort(),
    'each dead letter holds the refused document',
  );
  for (const l of lines) {
    assert.equal(l.status, 400, 'Elasticsearch answered 400 for the document');
    assert.match(l.error.type, /parsing_exception/, 'error type');
    assert.match(
      `${l.error.reason} ${JSON.stringify(l.error.caused_by ?? '')}`,
      new RegExp(`netflow\\.${FIELD}`),
      'the reason names the field',
    );
  }
  assert.equal(new Set(lines.map((l) => l.id)).size, lines.length, 'distinct document ids');

  // Counted: the collector's documents metric by outcome.
  const text = await (await fetch(`${collector.apiUrl}/metrics`)).text();
  const outcome = (o: string) =>
    [...text.matchAll(/^sluice_documents_total\{([^}]*)\} (\S+)$/gm)]
      .filter((m) => (m[1] ?? '').includes(`sluice_document_outcome="${o}"`))
      .reduce((a, m) => a + Number(m[2]), 0);
  assert.equal(outcome('dead_lettered'), conflicting.length, 'dead_lettered counted');
  assert.equal(outcome('indexed'), good.length, 'indexed counted');
});
