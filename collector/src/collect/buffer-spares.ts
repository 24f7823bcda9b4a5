// Buffers handed back across threads, kept to be written into again. Both ends of a
// decode request recycle this way (the pool its request buffers, a worker its reply
// buffers): a fresh large buffer per batch is an allocation, later freed on the other
// thread, which costs more CPU in V8's and the allocator's threads than the copy into it.

/** Spare ArrayBuffers up to `maxBytes` in all; new ones are sized in steps of `rounding`. */
export class BufferSpares {
  private readonly spares: ArrayBuffer[] = [];
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly rounding: number,
  ) {}

  /**
   * Keeps `buffer` for later; past the bound the oldest spares are let go. Why the oldest:
   * the newest are the sizes being asked for now, and a spare that fits no request would
   * otherwise hold its room for good.
   */
  keep(buffer: ArrayBuffer): void {
    if (buffer.byteLength > this.maxBytes) return;
    this.spares.push(buffer);
    this.bytes += buffer.byteLength;
    while (this.bytes > this.maxBytes) {
      const oldest = this.spares.shift() as ArrayBuffer;
      this.bytes -= oldest.byteLength;
    }
  }

  /** Bytes held in spares. */
  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * A buffer of at least `n` bytes (and at most `max`): the smallest spare that fits,
   * else a new one, not zeroed (its user writes every byte it reads).
   */
  take(n: number, max = Number.POSITIVE_INFINITY): ArrayBuffer {
    const spares = this.spares;
    let best = -1;
    for (let i = 0; i < spares.length; i++) {
      const size = (spares[i] as ArrayBuffer).byteLength;
      if (size >= n && size <= max && (best < 0 || size < (spares[best] as ArrayBuffer).byteLength))
        best = i;
    }
    if (best < 0) {
      const size = Math.ceil(Math.max(n, 1) / this.rounding) * this.rounding;
      return Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
    }
    const [buffer] = spares.splice(best, 1) as [ArrayBuffer];
    this.bytes -= buffer.byteLength;
    return buffer;
  }
}
