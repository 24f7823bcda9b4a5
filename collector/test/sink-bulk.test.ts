// The bulk indexer against the real Elasticsearch: replays create no duplicates, a
// mapping conflict goes to the dead-letter file while the rest of the batch is indexed,
// and failures (503, 429, connection refused) are retried until every document is
// indexed exactly once, with the checkpoint never passing a document that is not done.
// Failures come from a small proxy in front of the real node, which forwards the real
// bulk requests once the test lets it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import {
  type ElasticsearchServer,
  elasticsearchForTests,
  freePort,
  needServer,
  waitFor,
} from '@sluice/testkit';
import { pino } from 'pino';
import { backoffDelay } from '../src/sink/elasticsearch/backoff.js';
import { type BulkEvent, BulkIndexer, classifyItem } from '../src/sink/elasticsearch/bulk.js';
import type { DeadLetterEntry } from '../src/sink/elasticsearch/dead-letter.js';
import {
  fixtureDocuments,
  itemsOf,
  runSuffix,
} from '../src/sink/elasticsearch/fixtures.test-helpers.js';
import { startEsProxy } from '../src/sink/elasticsearch/proxy.test-helpers.js';
import { installIndexTemplate } from '../src/sink/elasticsearch/template.js';

const DATASET = `netflow.sluicebulk${runSuffix()}`;
const FAST_BACKOFF = { initialMs: 10, maxMs: 200 };
const TEST_TIMEOUT = 120_000;

/** Flow documents from the shared captures (real output of Sluice). */
const SOURCES = fixtureDocuments()
  .filter((f) => f.kind === 'netflow_flow')
  .map((f) => f.source);

interface Setup {
  es: ElasticsearchServer;
  client: Client;
  dir: string;
}

let templateInstalled: Promise<unknown> | undefined;

/** The real node, a direct client, a temp dir; the template once per file. */
async function setup(t: import('node:test').TestContext): Promise<Setup | undefined> {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return undefined;
  const client = new Client({ node: es.url });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sink-bulk-'));
  t.after(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  templateInstalled ??= installIndexTemplate(client, { dataStream: `logs-${DATASET}-default` });
  await templateInstalled;
  return { es, client, dir };
}

async function countOf(client: Client, index: string): Promise<number> {
  await client.indices.refresh({ index });
  return (await client.count({ index })).count;
}

test('backoff: full jitter under an exponential ceiling with a cap', () => {
  const top = () => 0.999999;
  assert.equal(
    backoffDelay(1, {}, () => 0),
    0,
  );
  assert.equal(backoffDelay(1, {}, top), 99);
  assert.equal(backoffDelay(4, {}, top), 799);
  assert.equal(backoffDelay(30, {}, top), 29_999);
  assert.equal(backoffDelay(5000, {}, top), 29_999, 'no overflow past the cap');
  assert.equal(backoffDelay(2, { initialMs: 10, maxMs: 15 }, top), 14);
});

test('item classification: done, retried, dead-lettered', () => {
  assert.deepEqual(classifyItem(201, undefined), { kind: 'done', duplicate: false });
  assert.deepEqual(classifyItem(409, 'version_conflict_engine_exception'), {
    kind: 'done',
    duplicate: true,
  });
  assert.deepEqual(classifyItem(429, 'es_rejected_execution_exception'), {
    kind: 'retry',
    cause: 'rejected_429',
  });
  assert.deepEqual(classifyItem(503, 'unavailable_shards_exception'), {
    kind: 'retry',
    cause: 'server_5xx',
  });
  assert.deepEqual(classifyItem(403, 'cluster_block_exception'), { kind: 'retry', cause: 'auth' });
  assert.deepEqual(classifyItem(400, 'index_closed_exception'), { kind: 'retry', cause: 'other' });
  assert.deepEqual(classifyItem(400, 'document_parsing_exception'), { kind: 'dead' });
  assert.deepEqual(classifyItem(400, 'mapper_parsing_exception'), { kind: 'dead' });
  assert.deepEqual(classifyItem(400, 'illegal_argument_exception'), { kind: 'dead' });
});

test('replay: the same ids create nothing new and count as duplicates', {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const s = await setup(t);
  if (!s) return;
  const dataStream = `logs-${DATASET}-replay`;
  const items = itemsOf(SOURCES.slice(0, 60));
  const run = async (list: typeof items) => {
    const done: bigint[] = [];
    const indexer = new BulkIndexer({
      client: s.client,
      dataStream,
      flushCount: 25,
      deadLetter: { path: join(s.dir, 'dlq.ndjson') },
      onDone: (p) => done.push(p),
    });
    for (const item of list) indexer.add(item);
    const closed = await indexer.close({ timeoutMs: 60_000 });
    assert.equal(closed.drained, true);
    return { stats: indexer.stats(), done };
  };

  const first = await run(items);
  assert.equal(first.stats.indexed, 60);
  assert.equal(first.stats.duplicates, 0);
  assert.equal(first.done.at(-1), 59n);
  assert.equal(await countOf(s.client, dataStream), 60);

  const replay = await run(items);
  assert.equal(replay.stats.indexed, 0);
  assert.equal(replay.stats.duplicates, 60);
  assert.equal(replay.done.at(-1), 59n, 'duplicates are done: the checkpoint advances');
  assert.equal(await countOf(s.client, dataStream), 60);

  // Overlapping replay: 30 old, 30 new.
  const overlap = await run(itemsOf(SOURCES.slice(30, 90), 'p', 30));
  assert.equal(overlap.stats.duplicates, 30);
  assert.equal(overlap.stats.indexed, SOURCES.slice(30, 90).length - 30);
  assert.equal(
    await countOf(s.client, dataStream),
    Math.min(90, SOURCES.length),
    'every document exactly once',
  );
});

test('dead letter: a mapping conflict is written with its reason, the rest is indexed', {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const s = await setup(t);
  if (!s) return;
  const dataStream = `logs-${DATASET}-dlq`;
  const path = join(s.dir, 'dead', 'letters.ndjson');
  const sources = SOURCES.slice(0, 10);
  const conflict = JSON.parse(sources[4] as string) as { source: { ip: string } };
  conflict.source.ip = 'not-an-ip';
  sources[4] = JSON.stringify(conflict);
  sources[6] = JSON.stringify(JSON.parse(sources[6] as string), null, 2); // line breaks, valid
  sources[7] = '{"@timestamp":"2024-05-01T00:00:00Z","source":'; // truncated JSON
  sources[9] = '{\n  "@timestamp": '; // truncated, with a line break
  const items = itemsOf(sources);
  const indexer = new BulkIndexer({ client: s.client, dataStream, deadLetter: { path } });
  for (const item of items) indexer.add(item);
  await indexer.close({ timeoutMs: 60_000 });

  const stats = indexer.stats();
  assert.equal(stats.deadLettered, 3);
  assert.equal(stats.indexed, 7);
  assert.equal(indexer.indexedUpTo(), 9n, 'dead-lettered documents are done');
  assert.equal(await countOf(s.client, dataStream), 7);

  const lines = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as DeadLetterEntry);
  assert.equal(lines.length, 3);
  const byId = new Map(lines.map((l) => [l.id, l]));
  const ip = byId.get('p4');
  assert.ok(ip, 'the conflicting document is in the file');
  assert.equal(ip.position, '4');
  assert.equal(ip.status, 400);
  assert.match(ip.error.type, /^(document|mapper)_parsing_exception$/);
  assert.match(ip.error.reason, /source\.ip/);
  assert.deepEqual(ip.source, conflict);
  assert.ok(!Number.isNaN(Date.parse(ip.time)));
  const truncated = byId.get('p7');
  assert.equal(truncated?.status, 400);
  assert.equal(truncated?.source, sources[7], 'unparsable text is kept as sent');
  const broken = byId.get('p9');
  assert.equal(broken?.status, 0, 'refused before sending: it would break the NDJSON framing');
  assert.equal(broken?.error.type, 'invalid_json');
});

test('retries: 503 and 429 answers are retried until every document is indexed once', {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const s = await setup(t);
  if (!s) return;
  const dataStream = `logs-${DATASET}-retry`;
  const proxy = await startEsProxy(s.es.url, {
    decide: (r) => {
      if (r.bulkN === 1 || r.bulkN === 2) return { status: 503 };
      if (r.bulkN === 3) {
        return {
          status: 429,
          error: { type: 'es_rejected_execution_exception', reason: 'queue full (test proxy)' },
        };
      }
      return 'forward';
    },
  });
  const client = new Client({ node: proxy.url });
  t.after(async () => {
    await client.close();
    await proxy.close();
  });
  const events: BulkEvent[] = [];
  const logLines: string[] = [];
  const indexer = new BulkIndexer({
    client,
    dataStream,
    concurrency: 1,
    backoff: FAST_BACKOFF,
    deadLetter: { path: join(s.dir, 'dlq.ndjson') },
    onBulk: (e) => events.push(e),
    logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }),
  });
  const items = itemsOf(SOURCES.slice(0, 40));
  for (const item of items) indexer.add(item);
  await indexer.flush();
  const stats = indexer.stats();
  await indexer.close();

  assert.equal(stats.indexed, 40);
  assert.equal(stats.duplicates, 0);
  assert.equal(stats.failedRequests.server_5xx, 2);
  assert.equal(stats.failedRequests.rejected_429, 1);
  assert.equal(stats.retries.server_5xx, 80);
  assert.equal(stats.retries.rejected_429, 40);
  assert.equal(stats.bulk.requests, 4);
  assert.deepEqual(
    events.map((e) => e.failure ?? 'ok'),
    ['server_5xx', 'server_5xx', 'rejected_429', 'ok'],
  );
  assert.equal(proxy.requests.filter((r) => r.bulkN > 0).length, 4);
  // One warning when the trouble starts, one line when it is over (not one per retry).
  const logged = logLines.map(
    (l) => JSON.parse(l) as { level: number; msg: string; cause?: string },
  );
  assert.deepEqual(
    logged.map((l) => [l.level, l.cause ?? '']),
    [
      [40, 'server_5xx'],
      [30, ''],
    ],
  );
  assert.match(logged[0]?.msg ?? '', /retrying with backoff/);
  assert.equal(await countOf(s.client, dataStream), 40);
});

test('checkpoint: never passes a document that is not done, whatever order requests finish in', {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const s = await setup(t);
  if (!s) return;
  const dataStream = `logs-${DATASET}-order`;
  // The request with the first documents fails, and only after the second one went through.
  let releaseFirst = (): void => {};
  const secondDone = new Promise<void>((r) => {
    releaseFirst = r;
  });
  let failed = false;
  const proxy = await startEsProxy(s.es.url, {
    decide: (r) => {
      if (!failed && r.body.includes('{"_id":"p0"}')) {
        failed = true;
        return { status: 503, after: secondDone };
      }
      return 'forward';
    },
  });
  const client = new Client({ node: proxy.url });
  t.after(async () => {
    await client.close();
    await proxy.close();
  });
  const seen: { event: BulkEvent; upTo: bigint | undefined }[] = [];
  const done: bigint[] = [];
  const indexer: BulkIndexer = new BulkIndexer({
    client,
    dataStream,
    flushCount: 20,
    concurrency: 2,
    backoff: FAST_BACKOFF,
    deadLetter: { path: join(s.dir, 'dlq.ndjson') },
    onDone: (p) => done.push(p),
    onBulk: (event) => {
      seen.push({ event, upTo: indexer.indexedUpTo() });
      if (event.indexed === 20 && seen.length === 1) releaseFirst();
    },
  });
  // Two batches of 20 go out at once: p0..p19 (held, then 503) and p20..p39.
  for (const item of itemsOf(SOURCES.slice(0, 40))) indexer.add(item);
  await indexer.flush();
  await indexer.close();

  assert.equal(seen.length, 3);
  assert.equal(seen[0]?.event.indexed, 20, 'the second batch is indexed first');
  assert.equal(seen[0]?.upTo, undefined, 'p0..p19 are not done: no checkpoint yet');
  assert.equal(seen[1]?.event.failure, 'server_5xx');
  assert.equal(seen[1]?.upTo, undefined);
  assert.equal(seen[2]?.event.indexed, 20);
  assert.equal(seen[2]?.upTo, 39n);
  assert.deepEqual(done, [39n], 'the checkpoint jumps once everything before it is done');
  assert.equal(await countOf(s.client, dataStream), 40);

  // Several documents at one journal position (records of one datagram): the position is
  // done only when all of them are.
  let failedOnce = false;
  let othersDone = (): void => {};
  const bothOthers = new Promise<void>((r) => {
    othersDone = r;
  });
  const proxy2 = await startEsProxy(s.es.url, {
    decide: (r) => {
      if (!failedOnce && r.body.includes('{"_id":"q1"}')) {
        failedOnce = true;
        return { status: 503, after: bothOthers };
      }
      return 'forward';
    },
  });
  const client2 = new Client({ node: proxy2.url });
  t.after(async () => {
    await client2.close();
    await proxy2.close();
  });
  const marks: (bigint | undefined)[] = [];
  const samePosition: BulkIndexer = new BulkIndexer({
    client: client2,
    dataStream,
    flushCount: 1,
    concurrency: 3,
    backoff: FAST_BACKOFF,
    deadLetter: { path: join(s.dir, 'dlq.ndjson') },
    onBulk: () => {
      marks.push(samePosition.indexedUpTo());
      if (marks.length === 2) othersDone();
    },
  });
  const [a, b, c] = SOURCES as [string, string, string];
  samePosition.add({ id: 'q0', source: a, position: 5n });
  samePosition.add({ id: 'q1', source: b, position: 5n });
  samePosition.add({ id: 'q2', source: c, position: 6n });
  await samePosition.flush();
  await samePosition.close();
  assert.equal(samePosition.indexedUpTo(), 6n);
  assert.equal(samePosition.stats().retries.server_5xx, 1);
  // q0 and q2 are done, then q1 fails: until q1 is retried, nothing may be checkpointed
  // (q0 shares its position).
  assert.deepEqual(marks, [undefined, undefined, undefined, 6n]);

  // Positions must not go backwards (the checkpoint relies on it).
  const order = new BulkIndexer({
    client: s.client,
    dataStream,
    deadLetter: { path: join(s.dir, 'dlq.ndjson') },
  });
  order.add({ id: 'r10', source: a, position: 10n });
  assert.throws(() => order.add({ id: 'r9', source: a, position: 9n }), RangeError);
  await order.close();
  assert.equal(order.indexedUpTo(), 10n);
});

test('retries: connection refused until a server appears on that port', {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const s = await setup(t);
  if (!s) return;
  const dataStream = `logs-${DATASET}-refused`;
  const port = await freePort();
  const client = new Client({ node: `http://127.0.0.1:${port}` });
  const done: bigint[] = [];
  const indexer = new BulkIndexer({
    client,
    dataStream,
    backoff: FAST_BACKOFF,
    deadLetter: { path: join(s.dir, 'dlq.ndjson') },
    onDone: (p) => done.push(p),
  });
  t.after(() => client.close());
  for (const item of itemsOf(SOURCES.slice(0, 30))) indexer.add(item);
  const flushed = indexer.flush();
  await waitFor(() => (indexer.stats().failedRequests.connection >= 3 ? true : undefined), {
    what: 'three refused connections',
    timeoutMs: 60_000,
    intervalMs: 20,
  });
  assert.equal(indexer.indexedUpTo(), undefined, 'nothing is done while nothing listens');
  assert.equal(indexer.stats().indexed, 0);
  assert.equal(indexer.stats().queuedItems, 30, 'the documents stay queued');

  const proxy = await startEsProxy(s.es.url, { port });
  t.after(() => proxy.close());
  await flushed;
  const stats = indexer.stats();
  await indexer.close();
  assert.equal(stats.indexed, 30);
  assert.ok(stats.failedRequests.connection >= 3);
  assert.equal(stats.retries.connection, stats.failedRequests.connection * 30);
  assert.deepEqual(done, [29n]);
  assert.equal(await countOf(s.client, dataStream), 30);
});

test('backpressure: add() reports a full queue and waitForCapacity() waits for room', {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const s = await setup(t);
  if (!s) return;
  const dataStream = `logs-${DATASET}-pressure`;
  const port = await freePort();
  const client = new Client({ node: `http://127.0.0.1:${port}` });
  t.after(() => client.close());
  const items = itemsOf(SOURCES.slice(0, 40));
  const perItem = Buffer.byteLength(items[0]?.source ?? '');
  const indexer = new BulkIndexer({
    client,
    dataStream,
    flushCount: 5,
    backoff: FAST_BACKOFF,
    maxQueuedBytes: perItem * 10,
    deadLetter: { path: join(s.dir, 'dlq.ndjson') },
  });
  let accepted = 0;
  for (const item of items) {
    accepted += 1;
    if (!indexer.add(item)) break;
  }
  assert.ok(accepted < items.length, `stopped after ${accepted} documents`);
  assert.equal(indexer.hasCapacity(), false);
  let waited = false;
  const room = indexer.waitForCapacity().then(() => {
    waited = true;
  });
  await waitFor(() => (indexer.stats().failedRequests.connection >= 2 ? true : undefined), {
    what: 'refused connections',
    timeoutMs: 60_000,
    intervalMs: 20,
  });
  assert.equal(waited, false, 'no room while Elasticsearch is unreachable');
  const proxy = await startEsProxy(s.es.url, { port });
  t.after(() => proxy.close());
  await room;
  for (const item of items.slice(accepted)) {
    if (!indexer.add(item)) await indexer.waitForCapacity();
  }
  await indexer.close({ timeoutMs: 60_000 });
  assert.equal(indexer.stats().indexed, 40);
  assert.equal(indexer.indexedUpTo(), 39n);
  assert.equal(await countOf(s.client, dataStream), 40);
});
