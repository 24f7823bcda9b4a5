import { rmSync, statSync } from 'node:fs';
import { listSegments, segmentSize } from './segments.js';

export interface RetentionPolicy {
  /** Keep the journal under this many bytes, deleting the oldest indexed segments. */
  maxBytes: number;
  /** Delete indexed segments older than this (by last write). */
  maxAgeMs: number;
  /**
   * A hard ceiling: past it the oldest segments go even if not indexed yet (counted
   * as lost), so a long Elasticsearch outage cannot fill the disk.
   */
  hardMaxBytes: number;
}

export interface RetentionResult {
  deletedSegments: number;
  deletedBytes: number;
  /** Bytes deleted that had not been indexed. */
  lostBytes: number;
}

/**
 * Applies retention. `indexedUpTo` is the checkpoint: whole segments below it are safe
 * to delete. The segment being written (`activeStart`) is never deleted.
 */
export function enforceRetention(
  dir: string,
  policy: RetentionPolicy,
  indexedUpTo: number,
  activeStart: number,
  nowMs = Date.now(),
): RetentionResult {
  const segs = listSegments(dir);
  const sizes = segs.map(segmentSize);
  let total = sizes.reduce((a, b) => a + b, 0);
  const res: RetentionResult = { deletedSegments: 0, deletedBytes: 0, lostBytes: 0 };
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    const next = segs[i + 1];
    if (!s || !next || s.start >= activeStart) break;
    const size = sizes[i] ?? 0;
    const indexed = next.start <= indexedUpTo;
    let old = false;
    try {
      old = nowMs - statSync(s.path).mtimeMs > policy.maxAgeMs;
    } catch {
      old = true;
    }
    const overSoft = total > policy.maxBytes;
    const overHard = total > policy.hardMaxBytes;
    if (!((indexed && (overSoft || old)) || overHard)) break;
    rmSync(s.path, { force: true });
    total -= size;
    res.deletedSegments += 1;
    res.deletedBytes += size;
    if (!indexed) res.lostBytes += Math.min(size, next.start - Math.max(s.start, indexedUpTo));
  }
  return res;
}
