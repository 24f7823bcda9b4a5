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
  /**
   * The segment listing, kept between reads: the collector reads the journal dozens of
   * times a second and the listing changes only when the writer starts a segment or
   * retention deletes one. Listed again when it cannot serve: the end of the last listed
   * segment reached (the writer moved on), a segment file gone, or corruption (whose
   * skip needs the next segment).
   */
  private segs: Segment[] | undefined;
  /** The segment file open for reading, kept open while reads stay in it. */
  private fd: number | undefined;
  private fdPath: string | undefined;

  constructor(
    private readonly dir: string,
    from: number,
  ) {
    this.pos = from;
  }

  get position(): number {
    return this.pos;
  }

  /** Closes the segment file held open (reading again reopens it). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.fdPath = undefined;
  }

  private listing(): Segment[] {
    this.segs ??= listSegments(this.dir);
    return this.segs;
  }

  /** Drops the cached listing (and the open file), so the next step lists again. */
  private relist(): void {
    this.segs = undefined;
    this.close();
  }

  private segmentAt(segs: Segment[]): { seg: Segment; next: Segment | undefined } | undefined {
    for (let i = segs.length - 1; i >= 0; i--) {
      const s = segs[i] as Segment;
      if (s.start <= this.pos) return { seg: s, next: segs[i + 1] };
    }
    return undefined;
  }

  /** Bytes read from `seg` at `offset` into `chunk`; -1 when its file is gone. */
  private readAt(seg: Segment, chunk: Buffer, len: number, offset: number): number {
    if (this.fdPath !== seg.path) {
      this.close();
      try {
        this.fd = openSync(seg.path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return -1;
        throw err;
      }
      this.fdPath = seg.path;
    }
    return readSync(this.fd as number, chunk, 0, len, offset);
  }

  /** Reads up to `maxBytes` of entries below `until`. */
  read(until: number, maxBytes = 4 << 20): JournalEntry[] {
    const out: JournalEntry[] = [];
    let budget = maxBytes;
    // The listing is read again at most once per call: what it cannot serve after that
    // waits for the next call.
    let relisted = this.segs === undefined;
    while (this.pos < until && budget > 0) {
      const segs = this.listing();
      const first = segs[0];
      if (first && this.pos < first.start) {
        // Retention removed what we had not read: count it and move on.
        this.stats.missing += first.start - this.pos;
        this.pos = first.start;
      }
      const at = this.segmentAt(segs);
      if (!at) {
        if (relisted) break;
        this.relist();
        relisted = true;
        continue;
      }
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
      const got = this.readAt(at.seg, chunk, len, this.pos - at.seg.start);
      if (got <= 0) {
        // The end of the last listed segment (the writer has started the next one since
        // it was listed) or its file gone (retention): list again.
        if (relisted) break;
        this.relist();
        relisted = true;
        continue;
      }
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
          // Skip the rest of this segment: nothing in it can be trusted past here. Where
          // it ends is where the next segment starts, as listed now.
          this.relist();
          relisted = true;
          const next = this.segmentAt(this.listing())?.next;
          this.pos = next ? next.start : until;
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
