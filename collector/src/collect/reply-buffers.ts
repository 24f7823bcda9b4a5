// The buffers a decode worker writes each batch's documents into and transfers to the
// main thread. A reply buffer is held there until every document in it is indexed, so
// unused room in it is memory held for seconds; copying the bytes into a tighter buffer
// costs a memcpy of the whole batch (1-2 MiB at 64 KiB of journal per batch). Both are
// avoided by sizing the buffer from the request: a batch's document bytes are close to
// a fixed multiple of its datagram bytes (the same exporters, templates and records).
import type { BufferSpares } from './buffer-spares.js';

/**
 * Room asked beyond the predicted size (1/16): documents per datagram byte vary a little
 * from batch to batch. A batch more than this above its prediction grows the buffer and
 * is copied (what every batch cost before).
 */
const HEADROOM_SHIFT = 4;
/** A spare may exceed the size asked by this much (1/32) and still be used. */
const SPARE_FIT_SHIFT = 5;
/** The size asked before any batch was seen (then grown once, and copied). */
const FIRST_GUESS = 256 * 1024;
/** Unused room a reply may carry without being copied out: this or a sixth of it. */
const MIN_SLACK = 256 * 1024;

/**
 * Bytes a reply buffer holding `n` written bytes may leave unused: with the headroom and
 * the spare fit above, a batch up to 4% below its prediction is not copied.
 */
export function replySlack(n: number): number {
  return Math.max(MIN_SLACK, Math.floor(n / 6));
}

/** Sizes, reuses and (rarely) tightens the reply buffers of one decode worker. */
export class ReplyBuffers {
  /** Document bytes per request byte in the last batch (0 before the first). */
  private ratio = 0;
  /** Replies copied into a tighter buffer (the batch outgrew its prediction). */
  copies = 0;

  constructor(private readonly spares: BufferSpares) {}

  /** The size to ask for a batch decoded from `requestBytes` bytes of datagrams. */
  want(requestBytes: number): number {
    if (this.ratio === 0) return FIRST_GUESS;
    const predicted = Math.ceil(requestBytes * this.ratio);
    return predicted + (predicted >> HEADROOM_SHIFT);
  }

  /** A buffer to write the batch of `requestBytes` into (a spare that fits when one does). */
  take(requestBytes: number): ArrayBuffer {
    const want = this.want(requestBytes);
    return this.spares.take(want, want + (want >> SPARE_FIT_SHIFT));
  }

  /**
   * The bytes to transfer for a batch that wrote `n` bytes into `written` (the buffer
   * taken, or the writer's grown one): `written` itself when it fits them closely, else
   * a copy into one that does (the large one kept as a spare).
   */
  reply(written: ArrayBuffer, view: Uint8Array, n: number, requestBytes: number): ArrayBuffer {
    if (requestBytes > 0) this.ratio = n / requestBytes;
    if (written.byteLength - n <= replySlack(n)) return written;
    this.copies++;
    const tight = this.spares.take(n, n + replySlack(n));
    new Uint8Array(tight).set(view.subarray(0, n));
    this.spares.keep(written);
    return tight;
  }

  /** A buffer the main thread handed back. */
  keep(buffer: ArrayBuffer): void {
    this.spares.keep(buffer);
  }
}
