import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { encodedSize, encodeEntry, type JournalDatagram, parseEntry } from './format.js';
import { listSegments, segmentName, segmentSize } from './segments.js';

export interface JournalWriterOptions {
  /** A new segment starts when the current one reaches this size. */
  segmentBytes?: number;
  /** Buffered entries are written to the file at least this often (ms). */
  flushIntervalMs?: number;
  /** fsync policy: 'always' after every flush, a number of ms between fsyncs, or 'never'. */
  fsync?: 'always' | 'never' | number;
  /** Bytes buffered before a flush is forced. */
  bufferBytes?: number;
}

export interface RecoveryReport {
  /** Bytes cut from the end of the last segment (a torn write after a crash). */
  truncatedBytes: number;
  reason: string | undefined;
}

const DEFAULTS = {
  segmentBytes: 64 * 1024 * 1024,
  flushIntervalMs: 20,
  fsync: 1000 as 'always' | 'never' | number,
  bufferBytes: 1024 * 1024,
};

/**
 * Scans a segment from its start and returns the length of its valid prefix: the
 * point where an entry is short or fails its checksum (a torn tail).
 */
function validPrefix(path: string, start: number): { length: number; reason: string | undefined } {
  const buf = readFileSync(path);
  let off = 0;
  for (;;) {
    const p = parseEntry(buf, off, start);
    if (p.kind === 'entry') {
      off += p.entry.size;
      continue;
    }
    if (p.kind === 'short')
      return { length: off, reason: off < buf.length ? 'incomplete entry' : undefined };
    return { length: off, reason: p.reason };
  }
}

/**
 * The append-only raw journal: every accepted datagram is appended here before it is
 * decoded, so nothing is lost when decoding, Elasticsearch or the process fails.
 * Entries are buffered briefly and written in batches; fsync runs on its own schedule.
 * Positions are global byte offsets, so they never repeat across segments or restarts.
 */
export class JournalWriter {
  private fd: number;
  private segStart: number;
  private buf: Buffer;
  private used = 0;
  /** Position of the next entry (includes buffered, unwritten ones). */
  private next: number;
  /** Everything before this position is in the file (not necessarily fsynced). */
  private written: number;
  private lastSync = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(head: number) => void>();
  readonly recovery: RecoveryReport;
  private readonly opts: typeof DEFAULTS;

  private constructor(
    readonly dir: string,
    opts: JournalWriterOptions,
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    mkdirSync(dir, { recursive: true });
    const segs = listSegments(dir);
    const last = segs.at(-1);
    let truncated = 0;
    let reason: string | undefined;
    if (last) {
      const size = segmentSize(last);
      const valid = validPrefix(last.path, last.start);
      if (valid.length < size) {
        // A crash mid-write leaves a partial entry: cut it, never fail on it.
        const fd = openSync(last.path, 'r+');
        ftruncateSync(fd, valid.length);
        fsyncSync(fd);
        closeSync(fd);
        truncated = size - valid.length;
        reason = valid.reason;
      }
      this.fd = openSync(last.path, 'a');
      this.segStart = last.start;
      this.next = last.start + valid.length;
    } else {
      this.segStart = 0;
      this.next = 0;
      this.fd = openSync(join(dir, segmentName(0)), 'a');
    }
    this.written = this.next;
    this.buf = Buffer.allocUnsafe(this.opts.bufferBytes + 70_000);
    this.recovery = { truncatedBytes: truncated, reason };
  }

  static open(dir: string, opts: JournalWriterOptions = {}): JournalWriter {
    return new JournalWriter(dir, opts);
  }

  /** Position the next entry will get. */
  get head(): number {
    return this.next;
  }

  /** Every entry before this position can be read from the files. */
  get flushedHead(): number {
    return this.written;
  }

  /** Appends a datagram and returns its position. */
  append(d: JournalDatagram): number {
    const size = encodedSize(d.bytes.length);
    const inSegment = this.next - this.segStart;
    if (inSegment > 0 && inSegment + size > this.opts.segmentBytes) {
      this.flush();
      this.rotate();
    }
    if (this.used + size > this.buf.length) this.flush();
    const position = this.next;
    this.used += encodeEntry(d, this.buf, this.used);
    this.next += size;
    if (this.used >= this.opts.bufferBytes) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.opts.flushIntervalMs);
      this.timer.unref();
    }
    return position;
  }

  /** Writes buffered entries to the segment file; fsyncs per the policy. */
  flush(): void {
    if (this.used > 0) {
      let off = 0;
      while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
      this.written += this.used;
      this.used = 0;
    }
    const policy = this.opts.fsync;
    const now = Date.now();
    if (policy === 'always' || (typeof policy === 'number' && now - this.lastSync >= policy)) {
      fsyncSync(this.fd);
      this.lastSync = now;
    }
    for (const l of this.listeners) l(this.written);
  }

  private rotate(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.segStart = this.written;
    this.fd = openSync(join(this.dir, segmentName(this.segStart)), 'a');
  }

  /** Called with the new flushed head whenever entries reach the files. */
  onFlush(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
