import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  enforceRetention,
  JournalReader,
  JournalWriter,
  listSegments,
  readCheckpoint,
  writeCheckpoint,
} from './index.js';

const dir = () => mkdtempSync(join(tmpdir(), 'sluice-journal-'));
const dg = (i: number, exporter = '192.0.2.1') => ({
  receivedMs: 1_700_000_000_000 + i + 0.5,
  exporter,
  exporterPort: 1000 + i,
  localPort: 2055,
  bytes: Uint8Array.from({ length: 10 + (i % 50) }, (_, k) => (i + k) & 0xff),
});

test('journal: entries read back exactly, across segments and reopenings', () => {
  const d = dir();
  const w = JournalWriter.open(d, { segmentBytes: 2_000 });
  const positions: number[] = [];
  for (let i = 0; i < 100; i++)
    positions.push(w.append(dg(i, i % 2 ? '2001:db8::1' : '192.0.2.1')));
  w.close();
  assert.ok(listSegments(d).length > 3, 'rotated into several segments');
  const w2 = JournalWriter.open(d, { segmentBytes: 2_000 });
  assert.equal(w2.recovery.truncatedBytes, 0);
  for (let i = 100; i < 120; i++) positions.push(w2.append(dg(i)));
  w2.flush();
  const entries = new JournalReader(d, 0).read(w2.flushedHead, 1 << 30);
  assert.equal(entries.length, 120);
  entries.forEach((e, i) => {
    const want = dg(i, i < 100 && i % 2 ? '2001:db8::1' : '192.0.2.1');
    assert.equal(e.position, positions[i]);
    assert.equal(e.exporter, want.exporter);
    assert.equal(e.exporterPort, want.exporterPort);
    assert.equal(e.receivedMs, want.receivedMs);
    assert.deepEqual(e.bytes, want.bytes);
  });
  // Reading from a position in the middle starts exactly there.
  const tail = new JournalReader(d, positions[50] as number).read(w2.flushedHead, 1 << 30);
  assert.equal(tail[0]?.position, positions[50]);
  assert.equal(tail.length, 70);
  w2.close();
});

test('journal: a torn tail after a crash is detected and cut, never fatal', () => {
  const d = dir();
  const w = JournalWriter.open(d);
  for (let i = 0; i < 10; i++) w.append(dg(i));
  w.close();
  const seg = listSegments(d)[0]?.path as string;
  const good = statSync(seg).size;
  // Half an entry: what a crash in the middle of a write leaves.
  const full = readFileSync(seg);
  appendFileSync(seg, full.subarray(0, 30));
  const w2 = JournalWriter.open(d);
  assert.equal(w2.recovery.truncatedBytes, 30);
  assert.equal(statSync(seg).size, good);
  const p = w2.append(dg(99));
  assert.equal(p, good, 'new entries continue right after the last good one');
  w2.flush();
  const all = new JournalReader(d, 0).read(w2.flushedHead, 1 << 30);
  assert.equal(all.length, 11);
  assert.deepEqual(all.at(-1)?.bytes, dg(99).bytes);
  // A flipped byte in the last entry is a checksum failure: cut as well.
  w2.close();
  const b = readFileSync(seg);
  b[b.length - 3] = (b[b.length - 3] ?? 0) ^ 0xff;
  writeFileSync(seg, b);
  const w3 = JournalWriter.open(d);
  assert.ok(w3.recovery.truncatedBytes > 0);
  assert.equal(w3.recovery.reason, 'checksum mismatch');
  w3.close();
});

test('journal: corruption inside an older segment skips that segment and is counted', () => {
  const d = dir();
  const w = JournalWriter.open(d, { segmentBytes: 1_000 });
  for (let i = 0; i < 60; i++) w.append(dg(i));
  w.close();
  const segs = listSegments(d);
  const first = segs[0]?.path as string;
  const b = readFileSync(first);
  b[200] = (b[200] ?? 0) ^ 0xff;
  writeFileSync(first, b);
  const r = new JournalReader(d, 0);
  const w2 = JournalWriter.open(d, { segmentBytes: 1_000 });
  const got = r.read(w2.flushedHead, 1 << 30);
  assert.equal(r.stats.corrupt, 1);
  assert.ok(got.length < 60 && got.length > 40);
  assert.equal(got.at(-1)?.exporterPort, dg(59).exporterPort, 'later segments still read');
  w2.close();
});

test('journal retention: indexed segments go first; unindexed only past the hard ceiling', () => {
  const d = dir();
  const w = JournalWriter.open(d, { segmentBytes: 1_000 });
  for (let i = 0; i < 100; i++) w.append(dg(i));
  w.close();
  const segs = listSegments(d);
  const total = segs.reduce((a, s) => a + statSync(s.path).size, 0);
  const active = segs.at(-1)?.start as number;
  const mid = segs[3]?.start as number;
  // Soft limit tiny, but only segments wholly below the checkpoint may go.
  const soft = enforceRetention(
    d,
    { maxBytes: 1, maxAgeMs: 1e12, hardMaxBytes: 1e12 },
    mid,
    active,
  );
  assert.equal(soft.deletedSegments, 3);
  assert.equal(soft.lostBytes, 0);
  // Past the hard ceiling, unindexed data goes too, and is counted as lost.
  const hard = enforceRetention(
    d,
    { maxBytes: 1, maxAgeMs: 1e12, hardMaxBytes: total / 2 },
    mid,
    active,
  );
  assert.ok(hard.deletedSegments > 0);
  assert.ok(hard.lostBytes > 0);
  // A reader behind the deleted data skips ahead and counts what it missed.
  const r = new JournalReader(d, 0);
  r.read(active + 10_000, 1 << 30);
  assert.ok(r.stats.missing > 0);
});

test('checkpoint: atomic write, missing or corrupt reads as none', () => {
  const d = dir();
  const p = join(d, 'state', 'checkpoint.json');
  assert.equal(readCheckpoint(p), undefined);
  writeCheckpoint(p, 12345);
  assert.equal(readCheckpoint(p)?.position, 12345);
  writeFileSync(p, '{"position":');
  assert.equal(readCheckpoint(p), undefined);
  truncateSync(p, 0);
  assert.equal(readCheckpoint(p), undefined);
});

test('journal reader: one reader follows the writer across rotations, each entry once', () => {
  // The reader keeps its segment listing and open file between reads: the writer starting
  // a new segment must still be followed, nothing read twice or skipped.
  const d = dir();
  const w = JournalWriter.open(d, { segmentBytes: 600 });
  const r = new JournalReader(d, 0);
  const positions: number[] = [];
  const got: number[] = [];
  for (let i = 0; i < 200; i++) {
    positions.push(w.append(dg(i)));
    if (i % 7 === 0) {
      w.flush();
      for (const e of r.read(w.flushedHead, 1 << 30)) got.push(e.position);
    }
  }
  w.flush();
  for (const e of r.read(w.flushedHead, 1 << 30)) got.push(e.position);
  assert.ok(listSegments(d).length > 20, 'rotated many times while being read');
  assert.deepEqual(got, positions);
  assert.equal(r.position, w.flushedHead);
  assert.deepEqual(r.stats, { corrupt: 0, missing: 0 });
  r.close();
  w.close();
});

test('journal reader: segments deleted under a reader are counted missing, reading goes on', () => {
  const d = dir();
  const w = JournalWriter.open(d, { segmentBytes: 1_000 });
  for (let i = 0; i < 100; i++) w.append(dg(i));
  w.flush();
  const segs = listSegments(d);
  const r = new JournalReader(d, 0);
  // Part of the first segment: the reader has it open and its listing cached.
  const first = r.read(w.flushedHead, 200);
  assert.ok(first.length > 0);
  const inFirst = (segs[1]?.start as number) - r.position;
  // Retention (past its hard ceiling) deletes the first three segments, unread data too.
  enforceRetention(
    d,
    { maxBytes: 1, maxAgeMs: 1e12, hardMaxBytes: 1 },
    0,
    segs[3]?.start as number,
  );
  assert.equal(listSegments(d)[0]?.start, segs[3]?.start);
  const rest = r.read(w.flushedHead, 1 << 30);
  // The open first segment is still read to its end; the two deleted after it are missing.
  const missing = (segs[3]?.start as number) - (segs[1]?.start as number);
  assert.equal(r.stats.missing, missing);
  const fromFirst = rest.filter((e) => e.position < (segs[1]?.start as number));
  assert.equal(
    fromFirst.reduce((a, e) => a + e.size, 0),
    inFirst,
  );
  assert.equal(rest.at(-1)?.exporterPort, dg(99).exporterPort, 'later segments still read');
  assert.equal(r.position, w.flushedHead);
  r.close();
  w.close();
});
