import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Client } from '@elastic/elasticsearch';
import { BulkIndexer } from './bulk.js';
import { bulkBodyParts, hasLineBreak, lineParts, renderLine } from './bulk-body.js';

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
function fakeClient(status: (docIndex: number) => number): {
  client: Client;
  bodies: Buffer[];
  kinds: ('buffer' | 'stream')[];
} {
  const bodies: Buffer[] = [];
  /** Per request, whether its body went out as one Buffer or as a stream of views. */
  const kinds: ('buffer' | 'stream')[] = [];
  const client = {
    transport: {
      request: async (params: { bulkBody: unknown }) => {
        // One Buffer, or a stream of Buffers (several runs of lines): read in full, as a
        // copy (the views are of buffers the caller may reuse once the lines are done).
        const b = params.bulkBody;
        // Kept in the order the requests were made, whatever order they are read in.
        const slot = bodies.push(Buffer.alloc(0)) - 1;
        kinds[slot] = Buffer.isBuffer(b) ? 'buffer' : 'stream';
        let body: Buffer;
        if (Buffer.isBuffer(b)) body = Buffer.from(b);
        else {
          assert.ok(b instanceof Readable, 'the body goes out as a Buffer or a stream');
          const chunks: Buffer[] = [];
          for await (const c of b) chunks.push(Buffer.from(c as Buffer));
          body = Buffer.concat(chunks);
        }
        bodies[slot] = body;
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
  return { client, bodies, kinds };
}

test('bulk body: action line with the id as JSON, the document bytes unchanged, a line break each', () => {
  const docs = documents(4).map((text, i) => {
    const idJson = JSON.stringify(`inst-${i.toString(36)}-"q"`);
    const line = renderLine(idJson, enc.encode(text));
    return { idJson, text, line: { buf: line, start: 0, end: line.length } };
  });
  const want = docs.map((d) => `{"create":{"_id":${d.idJson}}}\n${d.text}\n`).join('');
  const body = Buffer.concat(bulkBodyParts(docs.map((d) => d.line)).parts);
  assert.equal(body.toString('utf8'), want);
  assert.equal(body.length, Buffer.byteLength(want), 'bytes, not characters');
  // The id and the document come back out of a line as they went in (dead letters).
  for (const [i, d] of docs.entries()) {
    const parts = lineParts(d.line);
    assert.equal(parts.id, `inst-${i.toString(36)}-"q"`);
    assert.equal(Buffer.from(parts.source).toString('utf8'), d.text);
  }
  assert.equal(hasLineBreak(enc.encode('{"a":"b"}')), false);
  assert.equal(hasLineBreak(enc.encode('{"a":\n"b"}')), true);
  assert.equal(hasLineBreak(enc.encode('{"a":\r"b"}')), true);
});

test('bulk body: lines that follow each other in one buffer, lines elsewhere, in any mix', () => {
  // A batch buffer as a decode worker writes it: lines back to back, with junk around.
  const texts = documents(6);
  const rendered = texts.map((t, i) => renderLine(JSON.stringify(`b-${i}`), enc.encode(t)));
  const batch = Buffer.concat([Buffer.from('junk'), ...rendered.slice(0, 4), Buffer.from('tail')]);
  const lines: { buf: Uint8Array; start: number; end: number }[] = [];
  let off = 4;
  for (const r of rendered.slice(0, 4)) {
    lines.push({ buf: batch, start: off, end: off + r.length });
    off += r.length;
  }
  const own = rendered.slice(4).map((r) => ({ buf: r, start: 0, end: r.length }));
  // Contiguous, then a gap (line 2 skipped: it went in an earlier request), then lines of
  // their own in between lines of the batch.
  const order = [lines[0], lines[1], lines[3], own[0], lines[2], own[1]] as typeof lines;
  const want = order.map((l) => Buffer.from(l.buf.subarray(l.start, l.end)).toString()).join('');
  const { parts, bytes } = bulkBodyParts(order);
  assert.equal(Buffer.concat(parts).toString(), want);
  assert.equal(bytes, Buffer.byteLength(want));
  // Views, not copies: one per run of lines that follow each other in one buffer.
  assert.equal(parts.length, 5, 'lines 0-1 of the batch are one part');
  assert.equal(parts[0]?.buffer, batch.buffer);
  assert.equal(parts[0]?.byteOffset, batch.byteOffset + 4);
  assert.equal(parts[3]?.buffer, batch.buffer);
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

test('bulk indexer with rendered lines: one batch buffer, split by bytes, each sent once; dead letters and a malformed line keep their id and text', async (t) => {
  const texts = documents(40);
  const rejected = new Set([7, 21]);
  const { client, bodies, kinds } = fakeClient((n) => (rejected.has(n) ? 400 : 201));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-body-'));
  const path = join(dir, 'dead.ndjson');
  const flushBytes = 4096;
  const indexer = new BulkIndexer({
    client,
    flushBytes,
    flushCount: 1000,
    flushIntervalMs: 10,
    deadLetter: { path },
  });
  t.after(() => indexer.close());
  // Lines back to back in one buffer, as a decode worker writes them: datagram d holds
  // documents 4d .. 4d+3, all at journal position 100 d.
  const rendered = texts.map((text, i) => renderLine(JSON.stringify(`id-${i}`), enc.encode(text)));
  // Document 30's line loses its last byte (the line break): it must not be sent.
  rendered[30] = rendered[30]?.subarray(0, -1) as Buffer;
  const batch = Buffer.concat(rendered);
  let off = 0;
  for (let d = 0; d < 10; d++) {
    const offsets = new Uint32Array(5);
    offsets[0] = off;
    for (let j = 0; j < 4; j++) {
      off += (rendered[d * 4 + j] as Buffer).length;
      offsets[j + 1] = off;
    }
    indexer.addLines(batch, offsets, BigInt(d * 100));
  }
  await indexer.flush();
  assert.ok(bodies.length > 1, 'more than one request');
  const sent: string[] = [];
  for (const body of bodies) {
    assert.ok(body.length <= flushBytes, `a body of ${body.length} B`);
    const lines = body.toString('utf8').split('\n');
    for (let k = 0; k + 1 < lines.length; k += 2) {
      const action = JSON.parse(lines[k] as string) as { create: { _id: string } };
      assert.equal(lines[k + 1], texts[Number(action.create._id.slice(3))]);
      sent.push(action.create._id);
    }
  }
  const want = texts.map((_, i) => `id-${i}`).filter((id) => id !== 'id-30');
  assert.deepEqual(sent, want, 'every well-formed line once, in order');
  // Runs of the batch buffer went out as views: the request with the gap left by the
  // malformed line is two runs, a stream; the others are one, a Buffer.
  assert.ok(kinds.includes('stream'), `bodies went out as ${kinds.join(', ')}`);
  assert.ok(kinds.includes('buffer'), `bodies went out as ${kinds.join(', ')}`);
  const dead = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; source: unknown; error: { type: string } });
  assert.deepEqual(dead.map((l) => l.id).sort(), ['id-21', 'id-30', 'id-7']);
  for (const l of dead) {
    const n = Number(l.id.slice(3));
    if (n === 30) assert.equal(l.error.type, 'invalid_line');
    // The malformed line lost its line break, not a byte of the document.
    assert.equal(JSON.stringify(l.source), texts[n], 'the exact document text');
  }
  const s = indexer.stats();
  assert.equal(s.indexed, 37);
  assert.equal(s.deadLettered, 3);
  assert.equal(indexer.indexedUpTo(), 900n);
});

test('bulk indexer: sendNow sends a part batch at once, not after the flush interval', async (t) => {
  const { client, bodies } = fakeClient(() => 201);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-body-'));
  // An interval no test waits out: only sendNow can make these documents go.
  const indexer = new BulkIndexer({
    client,
    flushCount: 1000,
    flushIntervalMs: 600_000,
    deadLetter: { path: join(dir, 'dead.ndjson') },
  });
  t.after(() => indexer.close({ timeoutMs: 0 }));
  documents(3).forEach((text, i) => {
    indexer.add({ id: `doc-${i}`, source: text, position: BigInt(i) });
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(bodies.length, 0, 'a part batch waits for the interval');
  indexer.sendNow();
  for (let i = 0; i < 100 && indexer.indexedUpTo() !== 2n; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(indexer.indexedUpTo(), 2n);
  assert.equal(bodies.length, 1);
  // Nothing queued: a no-op.
  indexer.sendNow();
  assert.equal(bodies.length, 1);
});
