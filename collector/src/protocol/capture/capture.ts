// Format detection and the two ways to read a capture: over all its bytes at once
// (readCapture, frames are views into those bytes) or chunk by chunk (CaptureStreamParser,
// frames are views into the chunks, and only a record split across chunks is copied).
import { PcapReader, pcapMagic } from './pcap.js';
import { isPcapng, PcapngReader } from './pcapng.js';
import { type FormatReader, fail, need, type Step } from './step.js';
import {
  type CaptureEnd,
  type CaptureError,
  type CaptureFormat,
  type CaptureFrame,
  type CaptureOptions,
  DEFAULT_MAX_BLOCK_BYTES,
  type FrameSink,
} from './types.js';

/** The format of a capture from its first bytes, or 'unknown' (also when fewer than 4). */
export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat {
  if (pcapMagic(bytes)) return 'pcap';
  if (isPcapng(bytes)) return 'pcapng';
  return 'unknown';
}

function hex4(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = off; i < off + 4 && i < b.length; i++)
    s += (b[i] as number).toString(16).padStart(2, '0');
  return s;
}

/** Detects the format on the first call, then hands every step to the format's reader. */
class CaptureCore {
  format: CaptureFormat = 'unknown';
  frames = 0;
  private reader: FormatReader | undefined;
  private readonly maxBlockBytes: number;

  constructor(opts: CaptureOptions) {
    this.maxBlockBytes = opts.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
  }

  step(buf: Uint8Array, off: number, fileOffset: number): Step {
    if (!this.reader) {
      if (buf.length - off < 4) return need(4, 'capture file magic');
      const magic = pcapMagic(buf, off);
      if (magic) {
        this.reader = new PcapReader(magic, this.maxBlockBytes);
        this.format = 'pcap';
      } else if (isPcapng(buf, off)) {
        this.reader = new PcapngReader(this.maxBlockBytes);
        this.format = 'pcapng';
      } else {
        return fail(
          'unknown_format',
          `not a pcap or pcapng capture: the file starts with 0x${hex4(buf, off)}`,
          fileOffset,
        );
      }
    }
    const s = this.reader.step(buf, off, fileOffset, this.frames);
    if (s.kind === 'frame') this.frames++;
    return s;
  }

  /**
   * Classic pcap past its header: delivers the complete records from `off` to `sink`
   * and returns where it stopped (`off` itself when it took none, or for pcapng).
   */
  scan(buf: Uint8Array, off: number, sink: FrameSink): number {
    const r = this.reader;
    if (!(r instanceof PcapReader)) return off;
    const pos = r.scan(buf, off, sink);
    this.frames += r.scanned;
    return pos;
  }

  end(bytesRead: number, error: CaptureError | undefined): CaptureEnd {
    const r = this.reader;
    const out: CaptureEnd = {
      format: this.format,
      frames: this.frames,
      bytesRead,
      sections: r ? r.sections : 0,
      interfaces: r ? r.interfaces : 0,
      skippedBlocks: r ? r.skippedBlocks : 0,
    };
    if (error) out.error = error;
    return out;
  }
}

function truncation(what: string, size: number, offset: number, have: number): CaptureError {
  return {
    reason: 'truncated',
    message:
      offset === 0 && have === 0
        ? 'empty capture file'
        : `capture truncated: ${what} at byte ${offset} needs ${size} bytes, the file ends ${have} bytes after it`,
    offset,
  };
}

/**
 * Reads a whole pcap or pcapng capture. Yields every frame (its `data` a view into
 * `bytes`) and returns how the read ended: a truncated or malformed file still yields
 * all the frames before the damage and then returns an `error` saying where. Never throws.
 */
export function* readCapture(
  bytes: Uint8Array,
  opts: CaptureOptions = {},
): Generator<CaptureFrame, CaptureEnd, undefined> {
  const core = new CaptureCore(opts);
  let pos = 0;
  for (;;) {
    if (pos >= bytes.length) {
      if (pos === 0) return core.end(0, truncation('', 0, 0, 0));
      return core.end(pos, undefined);
    }
    const s = core.step(bytes, pos, pos);
    switch (s.kind) {
      case 'frame':
        pos += s.size;
        yield s.frame;
        break;
      case 'skip':
        pos += s.size;
        break;
      case 'need':
        return core.end(pos, truncation(s.what, s.size, pos, bytes.length - pos));
      case 'error':
        return core.end(pos, s.error);
    }
  }
}

/** All frames and the end of a capture, for callers that want them in arrays. */
export function readCaptureAll(
  bytes: Uint8Array,
  opts: CaptureOptions = {},
): { frames: CaptureFrame[]; end: CaptureEnd } {
  const frames: CaptureFrame[] = [];
  const it = readCapture(bytes, opts);
  for (;;) {
    const r = it.next();
    if (r.done) return { frames, end: r.value };
    frames.push(r.value);
  }
}

/**
 * Reads a capture pushed in chunks of any size (e.g. from a file stream). Frames are
 * views into the pushed chunks, so a caller that reuses its buffers must copy them;
 * a record split across chunks is copied into a buffer of its own (only that record).
 * After an error every later push returns nothing; `end()` reports it.
 */
export class CaptureStreamParser {
  private readonly core: CaptureCore;
  /** Bytes of the record being assembled across chunks. */
  private pending: Uint8Array | undefined;
  private pendingLen = 0;
  private pendingNeed = 0;
  private pendingWhat = '';
  /** File offset of the first byte not yet consumed (start of `pending` when pending). */
  private offset = 0;
  private error: CaptureError | undefined;
  private ended: CaptureEnd | undefined;

  constructor(opts: CaptureOptions = {}) {
    this.core = new CaptureCore(opts);
  }

  get format(): CaptureFormat {
    return this.core.format;
  }

  push(chunk: Uint8Array): CaptureFrame[] {
    const out: CaptureFrame[] = [];
    this.feed(chunk, out, undefined);
    return out;
  }

  /**
   * Like `push`, but hands the frames to `sink` as they are read, without a frame object
   * per packet for classic pcap (the fast path of the software exporter). The frame bytes
   * are only valid during the call: `chunk` may be reused by the caller afterwards.
   */
  pushTo(chunk: Uint8Array, sink: FrameSink): void {
    this.feed(chunk, undefined, sink);
  }

  private deliver(
    frame: CaptureFrame,
    out: CaptureFrame[] | undefined,
    sink: FrameSink | undefined,
  ) {
    if (out) out.push(frame);
    else
      sink?.frame(frame.linkType, frame.data, 0, frame.data.length, frame.origLength, frame.timeMs);
  }

  private feed(chunk: Uint8Array, out: CaptureFrame[] | undefined, sink: FrameSink | undefined) {
    if (this.error || this.ended) return;
    let pos = 0;
    while (this.pendingLen > 0) {
      const take = Math.min(this.pendingNeed - this.pendingLen, chunk.length - pos);
      this.pendingGrow(this.pendingLen + take);
      const pend = this.pending as Uint8Array;
      pend.set(chunk.subarray(pos, pos + take), this.pendingLen);
      this.pendingLen += take;
      pos += take;
      if (this.pendingLen < this.pendingNeed) return;
      const buf = pend.subarray(0, this.pendingLen);
      const s = this.core.step(buf, 0, this.offset);
      if (s.kind === 'need') {
        this.pendingNeed = s.size;
        this.pendingWhat = s.what;
        continue;
      }
      if (s.kind === 'error') {
        this.error = s.error;
        return;
      }
      if (s.kind === 'frame') this.deliver(s.frame, out, sink);
      this.offset += s.size;
      // A record never asks for more than itself, so it used all of the pending bytes;
      // should it not, the rest goes back in front of the chunk's unread bytes.
      const rest = buf.subarray(s.size);
      this.pending = undefined;
      this.pendingLen = 0;
      if (rest.length > 0) {
        const merged = new Uint8Array(rest.length + chunk.length - pos);
        merged.set(rest, 0);
        merged.set(chunk.subarray(pos), rest.length);
        chunk = merged;
        pos = 0;
      }
    }
    while (pos < chunk.length) {
      if (sink) {
        const next = this.core.scan(chunk, pos, sink);
        this.offset += next - pos;
        pos = next;
        if (pos >= chunk.length) break;
      }
      const s = this.core.step(chunk, pos, this.offset);
      if (s.kind === 'need') {
        const rest = chunk.length - pos;
        // A copy (not Buffer#slice, which would be a view into a chunk the caller may reuse).
        this.pending = new Uint8Array(chunk.subarray(pos));
        this.pendingLen = rest;
        this.pendingNeed = s.size;
        this.pendingWhat = s.what;
        return;
      }
      if (s.kind === 'error') {
        this.error = s.error;
        return;
      }
      if (s.kind === 'frame') this.deliver(s.frame, out, sink);
      pos += s.size;
      this.offset += s.size;
    }
  }

  /** Ends the stream: an incomplete record left over is reported as a truncation. */
  end(): CaptureEnd {
    if (this.ended) return this.ended;
    let error = this.error;
    if (!error && this.pendingLen > 0) {
      error = truncation(this.pendingWhat, this.pendingNeed, this.offset, this.pendingLen);
    }
    if (!error && this.offset === 0) error = truncation('', 0, 0, 0);
    this.ended = this.core.end(this.offset, error);
    this.pending = undefined;
    return this.ended;
  }

  /**
   * Makes room for `size` pending bytes. Growth is geometric and bounded by what the record
   * needs, so a corrupt length field costs memory only as the bytes really arrive.
   */
  private pendingGrow(size: number): void {
    const p = this.pending;
    if (p && p.length >= size) return;
    const n = new Uint8Array(Math.min(this.pendingNeed, Math.max(size, (p?.length ?? 0) * 2)));
    if (p) n.set(p.subarray(0, this.pendingLen), 0);
    this.pending = n;
  }
}
