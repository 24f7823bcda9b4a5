// The incremental contract shared by the pcap and pcapng readers: each call looks at the
// record or block starting at `off` and either delivers it, skips it, asks for more bytes
// (never more than the record itself needs, so a streaming caller can buffer exactly one
// record) or reports why the file cannot be read further.
import type { DecodeReason } from '../errors.js';
import type { CaptureError, CaptureFrame } from './types.js';

export type Step =
  | { kind: 'frame'; size: number; frame: CaptureFrame }
  | { kind: 'skip'; size: number }
  | { kind: 'need'; size: number; what: string }
  | { kind: 'error'; error: CaptureError };

export interface FormatReader {
  /**
   * Reads the record at `buf[off..]`; `fileOffset` is where `buf[off]` sits in the file
   * (for messages) and `index` the index the next frame gets.
   */
  step(buf: Uint8Array, off: number, fileOffset: number, index: number): Step;
  readonly sections: number;
  readonly interfaces: number;
  readonly skippedBlocks: number;
}

export function need(size: number, what: string): Step {
  return { kind: 'need', size, what };
}

export function fail(reason: DecodeReason, message: string, offset: number): Step {
  return { kind: 'error', error: { reason, message, offset } };
}

/** A DataView over `buf`, reused while the same buffer is stepped through. */
export class ViewCache {
  private buf: Uint8Array | undefined;
  private view: DataView | undefined;

  of(buf: Uint8Array): DataView {
    if (this.buf !== buf || this.view === undefined) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }
}

/** Milliseconds (float, microsecond precision) from nanoseconds since the epoch. */
export function nsToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}
