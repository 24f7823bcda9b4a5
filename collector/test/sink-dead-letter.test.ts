// The dead-letter file on its own: JSON lines, rotation by size without losing a line,
// optional pruning of old files.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  type DeadLetterEntry,
  DeadLetterFile,
  entrySource,
} from '../src/sink/elasticsearch/dead-letter.js';

function entry(i: number): DeadLetterEntry {
  return {
    time: new Date(0).toISOString(),
    id: `id-${i}`,
    position: String(i),
    status: 400,
    error: { type: 'document_parsing_exception', reason: `field [source.ip] value ${i}` },
    source: { source: { ip: 'not-an-ip' }, n: i },
  };
}

function linesIn(dir: string): DeadLetterEntry[] {
  return readdirSync(dir)
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as DeadLetterEntry);
}

test('dead letter: rotates by size and keeps every line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dead.ndjson');
  const oneLine = Buffer.byteLength(`${JSON.stringify(entry(0))}\n`);
  const file = new DeadLetterFile({ path, maxBytes: oneLine * 3 });
  // Concurrent appends are serialised.
  await Promise.all(Array.from({ length: 10 }, (_, i) => file.append([entry(i)])));
  await file.append([entry(10), entry(11)]);
  await file.close();
  assert.equal(file.written, 12);
  assert.ok(file.rotated >= 3, `rotated ${file.rotated} times`);
  const files = readdirSync(dir);
  assert.ok(files.includes('dead.ndjson'));
  assert.ok(
    files.every((f) => f === 'dead.ndjson' || /^dead\.ndjson\.\d{8}T\d{9}Z(-\d+)?$/.test(f)),
  );
  const ids = linesIn(dir)
    .map((e) => e.id)
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  assert.deepEqual(
    ids,
    Array.from({ length: 12 }, (_, i) => `id-${i}`),
  );
});

test('dead letter: maxFiles prunes the oldest rotated files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dead.ndjson');
  const file = new DeadLetterFile({ path, maxBytes: 10, maxFiles: 2 });
  for (let i = 0; i < 6; i++) await file.append([entry(i)]);
  await file.close();
  assert.equal(readdirSync(dir).length, 3, 'the live file and two rotated ones');
  assert.deepEqual(
    linesIn(dir)
      .map((e) => e.id)
      .sort(),
    ['id-3', 'id-4', 'id-5'],
  );
});

test('dead letter: a source that is not JSON is kept as text', () => {
  assert.deepEqual(entrySource('{"a":1}'), { a: 1 });
  assert.equal(entrySource('{"a":'), '{"a":');
});
