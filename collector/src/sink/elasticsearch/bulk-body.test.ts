import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Client } from '@elastic/elasticsearch';
import { BulkIndexer } from './bulk.js';
import { bodyBytes, buildBulkBody, hasLineBreak } from './bulk-body.js';

const enc = new TextEncoder();

/** Documents of varied sizes, some with non-ASCII text (multi-byte UTF-8). */
function documents(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      n: i,
      name: i % 3 === 0 ? `flux-é-日本-${i}` : `host-${i}`,
      pad: 'x'.repeat((i * 37) % 500),
    }),
  );
}

/** A client whose `_bulk` answers every document with `status(i)` and keeps the bodies. */
function fakeClient(status: (docIndex: number) => number): { client: Client; bodies: Buffer[] } {
  const bodies: Buffer[] = [];
  const client = {
    transport: {
      request: async (params: { bulkBody: unknown }) => {
        assert.ok(Buffer.isBuffer(params.bulkBody), 'the body goes out as a Buffer');
        // A copy: the indexer builds its next request in the same buffer once answered.
        const body = Buffer.from(params.bulkBody as Buffer);
        bodies.push(body);
        const lines = body.toString('utf8').split('\n');
        const items = [];
        for (let k = 0; k + 1 < lines.length; k += 2) {
          const doc = JSON.parse(lines[k + 1] as string) as { n: number };
          const s = status(doc.n);
          items.push({
            create:
              s < 300
                ? { status: s }
                : {
                    status: s,
                    error: { type: 'mapper_parsing_exception', reason: `bad ${doc.n}` },
                  },
          });
        }
        return { errors: items.some((x) => x.create.status >= 300), items };
      },
    },
  } as unknown as Client;
  return { client, bodies };
}

test('bulk body: action line with the id as JSON, the document bytes unchanged, a line break each', () => {
  const docs = documents(4).map((text, i) => {
    const idJson = JSON.stringify(`inst-${i.toString(36)}-"q"`);
    const source = enc.encode(text);
    return { idJson, source, bytes: bodyBytes(idJson, source), text };
  });
  const body = buildBulkBody(docs);
  const want = docs.map((d) => `{"create":{"_id":${d.idJson}}}\n${d.text}\n`).join('');
  assert.equal(body.toString('utf8'), want);
  assert.equal(body.length, Buffer.byteLength(want));
  assert.equal(
    body.length,
    docs.reduce((n, d) => n + d.bytes, 0),
    'bodyBytes counts bytes, not characters',
  );
  assert.equal(hasLineBreak(enc.encode('{"a":"b"}')), false);
  assert.equal(hasLineBreak(enc.encode('{"a":\n"b"}')), true);
  assert.equal(hasLineBreak(enc.encode('{"a":\r"b"}')), true);
});

test('bulk indexer with byte sources: ids kept, requests split by body bytes, every document sent once', async (t) => {
  const texts = documents(60);
  const { client, bodies } = fakeClient(() => 201);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-body-'));
  const flushBytes = 4096;
  const indexer = new BulkIndexer({
    client,
    flushBytes,
    flushCount: 1000,
    flushIntervalMs: 10,
    deadLetter: { path: join(dir, 'dead.ndjson') },
  });
  t.after(() => indexer.close());
  // Sources are views into one shared buffer, as the decode workers hand them over.
  const all = Buffer.from(texts.join(''), 'utf8');
  let off = 0;
  texts.forEach((text, i) => {
    const len = Buffer.byteLength(text);
    const source = all.subarray(off, off + len);
    off += len;
    indexer.add({ id: `doc-${i}`, source, position: BigInt(i) });
  });
  await indexer.flush();
  assert.ok(bodies.length > 1, 'more than one request');
  const sent: { id: string; text: string }[] = [];
  for (const body of bodies) {
    const lines = body.toString('utf8').split('\n');
    // Several documents per request, and none past the byte limit but a lone large one.
    assert.ok(body.length <= flushBytes || lines.length === 3, `a body of ${body.length} B`);
    for (let k = 0; k + 1 < lines.length; k += 2) {
      const action = JSON.parse(lines[k] as string) as { create: { _id: string } };
      sent.push({ id: action.create._id, text: lines[k + 1] as string });
    }
  }
  assert.deepEqual(
    sent,
    texts.map((text, i) => ({ id: `doc-${i}`, text })),
  );
  assert.equal(indexer.stats().indexed, texts.length);
  assert.equal(indexer.indexedUpTo(), BigInt(texts.length - 1));
});

test('bulk indexer with byte sources: a dead-lettered document is written with its exact text', async (t) => {
  const texts = documents(9);
  const rejected = new Set([3, 6]); // 3 and 6 carry non-ASCII text
  const { client } = fakeClient((n) => (rejected.has(n) ? 400 : 201));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-body-'));
  const path = join(dir, 'dead.ndjson');
  const indexer = new BulkIndexer({ client, flushIntervalMs: 10, deadLetter: { path } });
  t.after(() => indexer.close());
  texts.forEach((text, i) => {
    indexer.add({ id: `doc-${i}`, source: Buffer.from(text, 'utf8'), position: BigInt(i) });
  });
  await indexer.flush();
  const lines = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; source: unknown; error: { reason: string } });
  assert.deepEqual(
    lines.map((l) => l.id),
    ['doc-3', 'doc-6'],
  );
  for (const l of lines) {
    const n = Number(l.id.slice(4));
    assert.equal(JSON.stringify(l.source), texts[n], 'the document text, decoded from its bytes');
    assert.equal(l.error.reason, `bad ${n}`);
  }
  const s = indexer.stats();
  assert.equal(s.deadLettered, 2);
  assert.equal(s.indexed, 7);
  assert.equal(indexer.indexedUpTo(), 8n);
});

test('bulk indexer: string and byte sources give the same request body', async (t) => {
  const texts = documents(5);
  const a = fakeClient(() => 201);
  const b = fakeClient(() => 201);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-body-'));
  const fromText = new BulkIndexer({
    client: a.client,
    deadLetter: { path: join(dir, 'a.ndjson') },
  });
  const fromBytes = new BulkIndexer({
    client: b.client,
    deadLetter: { path: join(dir, 'b.ndjson') },
  });
  t.after(() => Promise.all([fromText.close(), fromBytes.close()]));
  texts.forEach((text, i) => {
    fromText.add({ id: `d${i}`, source: text, position: BigInt(i) });
    fromBytes.add({ id: `d${i}`, source: enc.encode(text), position: BigInt(i) });
  });
  await Promise.all([fromText.flush(), fromBytes.flush()]);
  assert.equal(a.bodies.length, 1);
  assert.deepEqual(a.bodies, b.bodies);
  assert.equal(
    a.bodies[0]?.toString('utf8'),
    texts.map((t, i) => `{"create":{"_id":"d${i}"}}\n${t}\n`).join(''),
  );
});
