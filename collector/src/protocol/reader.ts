import { DecodeError } from './errors.js';

/**
 * A bounds-checked big-endian cursor over a byte range. Every read checks the bound
 * and throws DecodeError('truncated') instead of reading past it; `sub` carves out a
 * bounded view so a nested structure can never read into its neighbour.
 */
export class Reader {
  readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
    view?: DataView,
  ) {
    if (start < 0 || end > buf.length || start > end) {
      throw new DecodeError('bad_length', `range ${start}..${end} outside ${buf.length} bytes`);
    }
    // `view` is a DataView over all of `buf` (a parent reader's, shared by `sub`: making
    // one per nested structure was an eighth of sFlow decoding).
    this.view = view ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are available; `what` names the structure for the error. */
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(
        'truncated',
        `${what}: needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`,
        this.pos,
      );
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  i32(what = 'i32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit as a number when exact (< 2^53), else as a bigint. */
  u64(what = 'u64'): number | bigint {
    this.need(8, what);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    if (hi < 0x200000) return hi * 0x100000000 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(n: number, what = 'skip'): void {
    this.need(n, what);
    this.pos += n;
  }

  /** A reader over the next `n` bytes; this reader moves past them. */
  sub(n: number, what = 'sub'): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.pos, this.pos + n, this.view);
    this.pos += n;
    return r;
  }
}

/**
 * Reads an unsigned big-endian integer of 1..8 bytes at `off` (reduced-size encoding
 * in IPFIX/v9 sends counters in fewer bytes than their type). Number when exact.
 */
export function readUintBE(buf: Uint8Array, off: number, len: number): number | bigint {
  switch (len) {
    case 1:
      return buf[off] as number;
    case 2:
      return ((buf[off] as number) << 8) | (buf[off + 1] as number);
    case 4:
      return (
        (buf[off] as number) * 0x1000000 +
        (((buf[off + 1] as number) << 16) |
          ((buf[off + 2] as number) << 8) |
          (buf[off + 3] as number))
      );
    default:
      break;
  }
  if (len <= 6) {
    let v = 0;
    for (let i = 0; i < len; i++) v = v * 256 + (buf[off + i] as number);
    return v;
  }
  if (len > 8) {
    let big = 0n;
    for (let i = 0; i < len; i++) big = (big << 8n) | BigInt(buf[off + i] as number);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  // 7 or 8 bytes: a high part and the low 32 bits as numbers. BigInt arithmetic costs
  // far more than this, and counters this wide are nearly always below 2^53 anyway.
  let hi = 0;
  for (let i = 0; i < len - 4; i++) hi = hi * 256 + (buf[off + i] as number);
  const o = off + len - 4;
  const lo =
    (buf[o] as number) * 0x1000000 +
    (((buf[o + 1] as number) << 16) | ((buf[o + 2] as number) << 8) | (buf[o + 3] as number));
  // hi < 2^21 keeps hi * 2^32 + lo below 2^53, where a number is exact.
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
