import { closeSync, openSync, readSync } from 'node:fs';
import { type JournalEntry, parseEntry } from './format.js';
import { listSegments, type Segment } from './segments.js';

/** The most one read takes from a segment file. */
const MAX_CHUNK = 1 << 20;

export interface ReadStats {
  /** Entries skipped because their checksum or length was wrong (not at the tail). */
  corrupt: number;
  /** Bytes of journal that were deleted by retention before they could be read. */
  missing: number;
}

/**
 * Reads journal entries in position order from a starting position up to a limit (the
 * writer's flushed head). A corrupt region inside a closed segment is skipped to the
 * next segment and counted; reading resumes from where it stopped on the next call.
 */
export class JournalReader {
  private pos: number;
  readonly stats: ReadStats = { corrupt: 0, missing: 0 };

  constructor(
    private readonly dir: string,
    from: number,
  ) {
    this.pos = from;
  }

  get position(): number {
    return this.pos;
  }

  private segmentAt(segs: Segment[]): { seg: Segment; next: Segment | undefined } | undefined {
    for (let i = segs.length - 1; i >= 0; i--) {
      const s = segs[i] as Segment;
      if (s.start <= this.pos) return { seg: s, next: segs[i + 1] };
    }
    return undefined;
  }

  /** Reads up to `maxBytes` of entries below `until`. */
  read(until: number, maxBytes = 4 << 20): JournalEntry[] {
    const out: JournalEntry[] = [];
    let budget = maxBytes;
    while (this.pos < until && budget > 0) {
      const segs = listSegments(this.dir);
      const first = segs[0];
      if (first && this.pos < first.start) {
        // Retention removed what we had not read: count it and move on.
        this.stats.missing += first.start - this.pos;
        this.pos = first.start;
      }
      const at = this.segmentAt(segs);
      if (!at) break;
      const segEnd = at.next ? at.next.start : until;
      const want = Math.min(segEnd, until) - this.pos;
      if (want <= 0) {
        if (at.next) {
          this.pos = at.next.start;
          continue;
        }
        break;
      }
      const len = Math.min(want, Math.max(budget, 70_000), MAX_CHUNK);
      // A fresh buffer per read, not zeroed (every byte used is read into it), that the
      // entries returned are views of: one allocation per read instead of a copy per
      // entry (thousands of small off-heap buffers a second, each malloc'ed, zeroed and
      // later freed by the GC).
      const chunk = Buffer.allocUnsafeSlow(len);
      const fd = openSync(at.seg.path, 'r');
      let got = 0;
      try {
        got = readSync(fd, chunk, 0, len, this.pos - at.seg.start);
      } finally {
        closeSync(fd);
      }
      if (got === 0) break;
      const view = chunk.subarray(0, got);
      let off = 0;
      let progressed = false;
      for (;;) {
        const p = parseEntry(view, off, this.pos);
        if (p.kind === 'entry') {
          out.push(p.entry);
          off += p.entry.size;
          budget -= p.entry.size;
          progressed = true;
          continue;
        }
        if (p.kind === 'corrupt') {
          this.stats.corrupt += 1;
          // Skip the rest of this segment: nothing in it can be trusted past here.
          this.pos = at.next ? at.next.start : until;
          off = -1;
        }
        break;
      }
      if (off >= 0) this.pos += off;
      if (!progressed && off >= 0) break; // an entry larger than what was read: wait
    }
    return out;
  }
}
