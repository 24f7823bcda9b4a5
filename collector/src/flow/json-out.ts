// JSON text written as UTF-8 bytes into one reusable buffer: the document writer's
// output. Every writer here gives exactly the bytes of what JSON.stringify writes for the
// same value (the document contract, see document.ts), without creating strings.
//
// Why bytes: a document is ~1.5 kB of which two thirds are constant keys and
// punctuation. Built as a JS string it is a rope of a few hundred pieces that must be
// allocated, flattened and copied again; here constant text is stored eight bytes at a
// time (one float64 store of a precomputed chunk) and numbers, addresses and times are
// written digit by digit.

import { MAX_DATE_MS } from './fast-json.js';

const encoder = new TextEncoder();

/**
 * Constant text, pre-encoded: its UTF-8 bytes and the same bytes as float64 chunks
 * (padded with spaces to a multiple of eight). Printable ASCII never forms a NaN (that
 * needs a 0x7f or 0xff byte), so the chunks store back bit-exactly; text that could
 * (non-ASCII) is marked and copied byte by byte instead.
 */
export class Text {
  readonly bytes: Uint8Array;
  readonly chunks: Float64Array;
  readonly length: number;
  /** All bytes below 0x80. */
  readonly ascii: boolean;
  /** ASCII, and the chunks store back bit-exactly as float64s: the fast path. */
  readonly simple: boolean;

  constructor(readonly text: string) {
    const bytes = encoder.encode(text);
    this.bytes = bytes;
    this.length = bytes.length;
    const padded = new Uint8Array((bytes.length + 7) & ~7).fill(0x20);
    padded.set(bytes);
    const view = new DataView(padded.buffer);
    const chunks = new Float64Array(padded.length >> 3);
    let chunked = true;
    for (let i = 0; i < chunks.length; i++) {
      const x = view.getFloat64(i << 3, true);
      // NaNs (and, to be safe, subnormals) might not store back bit for bit.
      if (Number.isNaN(x) || (x !== 0 && Math.abs(x) < 2.2250738585072014e-308)) chunked = false;
      chunks[i] = x;
    }
    this.chunks = chunks;
    this.ascii = bytes.every((b) => b < 0x80);
    this.simple = chunked && this.ascii;
  }
}

/** A writable byte buffer that grows; `pos` is where the next byte goes. */
export class JsonOut {
  buf: Buffer;
  /** The same memory as a plain Uint8Array (its slice() copies, a Buffer's does not). */
  bytes: Uint8Array;
  view: DataView;
  pos = 0;
  /** No byte >= 0x80 written since the last reset (the text can be read as latin1). */
  ascii = true;
  /**
   * buf.length as a plain field: the writers compare against it for every piece, and a
   * Buffer's length getter cost more there than the comparison.
   */
  limit: number;

  constructor(size = 1 << 16) {
    this.buf = Buffer.alloc(size);
    this.limit = size;
    this.bytes = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  reset(): void {
    this.pos = 0;
    this.ascii = true;
  }

  /**
   * Writes into `buffer` from its start from now on, the buffer before it let go: for a
   * caller that hands the written bytes away whole (transfers `buf.buffer` to another
   * thread) instead of copying them out. `buf.buffer` is always a buffer of its own,
   * starting at offset 0 (a grown one too), so it can be transferred.
   */
  adopt(buffer: ArrayBuffer): void {
    const next = Buffer.from(buffer);
    this.buf = next;
    this.limit = next.length;
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.reset();
  }

  /** Makes room for `n` more bytes (plus the 8 a chunked store may overrun). */
  reserve(n: number): void {
    if (this.pos + n + 8 > this.limit) this.grow(n + 8);
  }

  private grow(n: number): void {
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.limit = next.length;
    this.bytes = new Uint8Array(next.buffer, next.byteOffset, next.byteLength);
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** The text written from `start` to the current position. */
  text(start = 0): string {
    return this.ascii
      ? this.buf.toString('latin1', start, this.pos)
      : this.buf.toString('utf8', start, this.pos);
  }
}

export function writeText(o: JsonOut, t: Text): void {
  const p = o.pos;
  const n = t.length;
  if (p + n + 8 > o.limit) o.reserve(n);
  if (t.simple) {
    const c = t.chunks;
    const view = o.view;
    for (let i = 0, q = p; i < c.length; i++, q += 8) view.setFloat64(q, c[i] as number, true);
  } else {
    o.buf.set(t.bytes, p);
    if (!t.ascii) o.ascii = false;
  }
  o.pos = p + n;
}

/**
 * A simple Text's chunks at position `p` (room made by the caller for its length + 8):
 * the position after its text.
 */
export function textAt(view: DataView, p: number, t: Text): number {
  const c = t.chunks;
  for (let i = 0, q = p; i < c.length; i++, q += 8) view.setFloat64(q, c[i] as number, true);
  return p + t.length;
}

/** One byte (an ASCII character code). */
export function writeByte(o: JsonOut, b: number): void {
  if (o.pos + 9 > o.limit) o.reserve(1);
  o.buf[o.pos++] = b;
}

/** A string as is, UTF-8 encoded (already JSON text, or characters that need no escape). */
export function writeRaw(o: JsonOut, s: string): void {
  o.reserve(s.length * 3);
  const n = o.buf.write(s, o.pos, 'utf8');
  if (n !== s.length) o.ascii = false;
  o.pos += n;
}

const PAIRS = encoder.encode(
  Array.from({ length: 100 }, (_, i) => `${i}`.padStart(2, '0')).join(''),
);

// Numbers below 10,000 as their digit bytes packed into one 32-bit word (left-aligned,
// little-endian: the first digit in the lowest byte), with and without leading zeros:
// a number below 1e8 is then one division and two word stores instead of a loop of
// divisions by 100 and byte stores. A store may write up to 3 bytes past the digits;
// every caller reserves room for 8 more bytes, and `pos` moves only past the digits.
export const DIGITS4 = new Uint32Array(10_000);
export const DIGITS4_LENGTH = new Uint8Array(10_000);
export const PADDED4 = new Uint32Array(10_000);
for (let n = 0; n < 10_000; n++) {
  const s = `${n}`;
  const z = s.padStart(4, '0');
  let w = 0;
  let zw = 0;
  for (let i = 0; i < 4; i++) {
    if (i < s.length) w += s.charCodeAt(i) * 2 ** (8 * i);
    zw += z.charCodeAt(i) * 2 ** (8 * i);
  }
  DIGITS4[n] = w;
  DIGITS4_LENGTH[n] = s.length;
  PADDED4[n] = zw;
}

/**
 * Digits of an integer 0 <= n < 1e8 (also -0, written as 0), with no room check: the
 * caller has made room for 8 bytes (generated writers check once for key and number).
 */
export function smallDigits(o: JsonOut, n: number): void {
  const view = o.view;
  const p = o.pos;
  if (n < 10_000) {
    const i = n | 0;
    view.setUint32(p, DIGITS4[i] as number, true);
    o.pos = p + (DIGITS4_LENGTH[i] as number);
    return;
  }
  const hi = (n / 10_000) | 0;
  const q = p + (DIGITS4_LENGTH[hi] as number);
  view.setUint32(p, DIGITS4[hi] as number, true);
  view.setUint32(q, PADDED4[n - hi * 10_000] as number, true);
  o.pos = q + 4;
}

/**
 * smallDigits at position `p` of `view`'s bytes: returns the position after the digits
 * (the generated document writer keeps its position in a local).
 */
export function digitsAt(view: DataView, p: number, n: number): number {
  if (n < 10_000) {
    const i = n | 0;
    view.setUint32(p, DIGITS4[i] as number, true);
    return p + (DIGITS4_LENGTH[i] as number);
  }
  const hi = (n / 10_000) | 0;
  const q = p + (DIGITS4_LENGTH[hi] as number);
  view.setUint32(p, DIGITS4[hi] as number, true);
  view.setUint32(q, PADDED4[n - hi * 10_000] as number, true);
  return q + 4;
}

/** Digits of an integer 0 <= n <= 2^53 (also -0, written as 0). */
function uintDigits(o: JsonOut, n: number): void {
  o.pos = uintAt(o.view, o.pos, n);
}

/**
 * uintDigits at position `p` (at most 16 digits, room made by the caller for 20 bytes):
 * the position after the digits.
 */
export function uintAt(view: DataView, p: number, n: number): number {
  if (n < 100_000_000) return digitsAt(view, p, n);
  const hi = Math.floor(n / 100_000_000);
  const q = digitsAt(view, p, hi);
  // The low eight digits, zero-padded.
  const lo = n - hi * 100_000_000;
  const h = (lo / 10_000) | 0;
  view.setUint32(q, PADDED4[h] as number, true);
  view.setUint32(q + 4, PADDED4[lo - h * 10_000] as number, true);
  return q + 8;
}

/** `String(n)`: a number's text as JavaScript writes it (NaN, Infinity included). */
export function writeNumberText(o: JsonOut, n: number): void {
  o.reserve(32);
  if (n >= 0 && n <= 9_007_199_254_740_992 && Math.floor(n) === n) {
    uintDigits(o, n);
  } else if (n < 0 && n >= -9_007_199_254_740_992 && Math.floor(n) === n) {
    o.buf[o.pos++] = 0x2d;
    uintDigits(o, -n);
  } else {
    writeRaw(o, `${n}`);
  }
}

/**
 * Constant text then a JSON number, as writeText then writeNumber write them, with one
 * room check for both when the number is a small integer (object members' common case).
 */
export function writeTextNumber(o: JsonOut, t: Text, n: number): void {
  const p = o.pos;
  const len = t.length;
  if (t.simple && n >= 0 && n < 100_000_000 && (n | 0) === n && p + len + 16 <= o.limit) {
    const c = t.chunks;
    const view = o.view;
    for (let i = 0, q = p; i < c.length; i++, q += 8) view.setFloat64(q, c[i] as number, true);
    o.pos = p + len;
    smallDigits(o, n);
    return;
  }
  writeText(o, t);
  writeNumber(o, n);
}

/** A JSON number: non-finite numbers are null, as JSON.stringify writes them. */
export function writeNumber(o: JsonOut, n: number): void {
  // Nearly every number in a document is a small non-negative integer (also -0: "0").
  if (n >= 0 && n < 100_000_000 && (n | 0) === n) {
    if (o.pos + 16 > o.limit) o.reserve(8);
    smallDigits(o, n);
    return;
  }
  // Larger counters and times (up to 2^53), as writeNumberText writes them.
  if (n >= 0 && n <= 9_007_199_254_740_992 && Math.floor(n) === n) {
    if (o.pos + 24 > o.limit) o.reserve(16);
    uintDigits(o, n);
    return;
  }
  if (n - n === 0) writeNumberText(o, n);
  else writeRaw(o, 'null');
}

/**
 * A JSON string literal. Text without quotes, backslashes, control characters or
 * non-ASCII is copied byte for byte; anything else goes through JSON.stringify (which
 * escapes lone surrogates) and is UTF-8 encoded.
 */
export function writeString(o: JsonOut, s: string): void {
  const n = s.length;
  o.reserve(n + 2);
  const b = o.buf;
  let p = o.pos;
  b[p++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) {
      writeRaw(o, JSON.stringify(s));
      return;
    }
    b[p++] = c;
  }
  b[p++] = 0x22;
  o.pos = p;
}

const HEX = encoder.encode(
  Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''),
);

/** Bytes as a quoted lower-case hex string. */
export function writeHexString(o: JsonOut, bytes: Uint8Array): void {
  o.reserve(bytes.length * 2 + 2);
  const b = o.buf;
  let p = o.pos;
  b[p++] = 0x22;
  for (let i = 0; i < bytes.length; i++) {
    const x = (bytes[i] as number) << 1;
    b[p++] = HEX[x] as number;
    b[p++] = HEX[x + 1] as number;
  }
  b[p++] = 0x22;
  o.pos = p;
}

// Dates: the text up to the seconds is kept per second (a direct-mapped cache, as
// float64 chunks) and only the milliseconds are written, because a document has up to
// five dates, mostly within the same minutes.
const SECOND_SLOTS = 1024;
const slotSecond = new Float64Array(SECOND_SLOTS).fill(-1);
/** Per slot, `YYYY-MM-DDTHH:MM:SS.` (20 bytes, then 4 of padding): three chunks. */
const slotBytes = new Uint8Array(SECOND_SLOTS * 24).fill(0x20);
/** The same bytes as float64s in the platform's byte order (stored back in that order). */
const slotChunks = new Float64Array(slotBytes.buffer);
const NATIVE_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Per millisecond 0-999, its three digits and `Z` as one little-endian word. */
const MILLIS = new Uint32Array(1000);
for (let m = 0; m < 1000; m++) {
  const t = `${`${m}`.padStart(3, '0')}Z`;
  MILLIS[m] =
    t.charCodeAt(0) + t.charCodeAt(1) * 2 ** 8 + t.charCodeAt(2) * 2 ** 16 + 0x5a * 2 ** 24;
}

let cachedDay = -1;
const dayBytes = new Uint8Array(11);

function fillSlot(slot: number, second: number): void {
  const day = Math.floor(second / 86_400);
  if (day !== cachedDay) {
    // `YYYY-MM-DDT` from toISOString itself, once per day.
    encoder.encodeInto(new Date(day * 86_400_000).toISOString().slice(0, 11), dayBytes);
    cachedDay = day;
  }
  const b = slotBytes;
  const at = slot * 24;
  b.set(dayBytes, at);
  let rest = second - day * 86_400;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hour = (rest - min) / 60;
  b[at + 11] = PAIRS[hour << 1] as number;
  b[at + 12] = PAIRS[(hour << 1) + 1] as number;
  b[at + 13] = 0x3a;
  b[at + 14] = PAIRS[min << 1] as number;
  b[at + 15] = PAIRS[(min << 1) + 1] as number;
  b[at + 16] = 0x3a;
  b[at + 17] = PAIRS[sec << 1] as number;
  b[at + 18] = PAIRS[(sec << 1) + 1] as number;
  b[at + 19] = 0x2e;
  slotSecond[slot] = second;
}

/**
 * isoAt's cache, for the generated document writer, which writes dates with isoAt's
 * code inline (document-compiled.ts): per slot (second mod SECOND_SLOTS) the second it
 * holds and its text as three float64 chunks, filled by `fill(slot, second)`, stored
 * back in the platform's byte order (`nativeLE`); `millis` the MILLIS words.
 */
export const ISO_CACHE = {
  slots: SECOND_SLOTS,
  seconds: slotSecond,
  chunks: slotChunks,
  millis: MILLIS,
  fill: fillSlot,
  nativeLE: NATIVE_LE,
  max: MAX_DATE_MS,
} as const;

/**
 * `"<new Date(ms).toISOString()>"` for 0 <= ms <= MAX_DATE_MS; false (nothing written)
 * outside that range and for NaN, the rule of the document's `iso()`.
 */
export function writeIsoQuoted(o: JsonOut, ms: number): boolean {
  if (!(ms >= 0 && ms <= MAX_DATE_MS)) return false;
  o.reserve(32);
  o.pos = isoAt(o.buf, o.view, o.pos, ms);
  return true;
}

/**
 * writeIsoQuoted at position `p` (26 bytes, room made by the caller): the position
 * after it, or -1 (nothing written) for no plausible date.
 */
export function isoAt(b: Uint8Array, view: DataView, p: number, ms: number): number {
  if (!(ms >= 0 && ms <= MAX_DATE_MS)) return -1;
  // A Date truncates its time value to whole milliseconds; ms >= 0, so floor does too.
  // No `%` on these doubles (beyond int32, V8 calls fmod): a division and a floor, and
  // the slot from the low bits (2^32 is a multiple of SECOND_SLOTS, so ToInt32 keeps
  // second mod SECOND_SLOTS).
  const t = Math.floor(ms);
  const second = Math.floor(t / 1000);
  const milli = t - second * 1000;
  const slot = second & (SECOND_SLOTS - 1);
  if (slotSecond[slot] !== second) fillSlot(slot, second);
  b[p] = 0x22;
  view.setFloat64(p + 1, slotChunks[slot * 3] as number, NATIVE_LE);
  view.setFloat64(p + 9, slotChunks[slot * 3 + 1] as number, NATIVE_LE);
  view.setFloat64(p + 17, slotChunks[slot * 3 + 2] as number, NATIVE_LE);
  view.setUint32(p + 21, MILLIS[milli] as number, true);
  b[p + 25] = 0x22;
  return p + 26;
}

// Per octet value, its digits followed by a dot (OCTET_DOT) or a quote (OCTET_QUOTE) as
// one little-endian word (at most "255." or "255\"", four bytes), and that text's length:
// an address is four word stores, with no branch on how many digits each octet has
// (random addresses made those branches a coin toss).
const OCTET_DOT = new Uint32Array(256);
const OCTET_QUOTE = new Uint32Array(256);
const OCTET_LENGTH = new Uint8Array(256);
for (let v = 0; v < 256; v++) {
  const s = `${v}`;
  let dot = 0;
  let quote = 0;
  for (let i = 0; i <= s.length; i++) {
    dot += (i < s.length ? s.charCodeAt(i) : 0x2e) * 2 ** (8 * i);
    quote += (i < s.length ? s.charCodeAt(i) : 0x22) * 2 ** (8 * i);
  }
  OCTET_DOT[v] = dot;
  OCTET_QUOTE[v] = quote;
  OCTET_LENGTH[v] = s.length + 1;
}

/** The octet tables, for the generated document writer's inline copy of ipv4At. */
export const OCTETS = { dot: OCTET_DOT, quote: OCTET_QUOTE, length: OCTET_LENGTH } as const;

/**
 * `"a.b.c.d"`, the JSON string of an IPv4 address given as an unsigned 32-bit number:
 * the text ipv4ToString makes, written without making it.
 */
export function writeIpv4Quoted(o: JsonOut, n: number): void {
  if (o.pos + 26 > o.limit) o.reserve(18);
  o.pos = ipv4At(o.view, o.pos, n);
}

/**
 * writeIpv4Quoted at position `p` (at most 17 bytes, and it may store 3 past them: room
 * made by the caller for 20): the position after it.
 */
export function ipv4At(view: DataView, p: number, n: number): number {
  view.setUint8(p, 0x22);
  let v = n >>> 24;
  view.setUint32(p + 1, OCTET_DOT[v] as number, true);
  let q = p + 1 + (OCTET_LENGTH[v] as number);
  v = (n >>> 16) & 0xff;
  view.setUint32(q, OCTET_DOT[v] as number, true);
  q += OCTET_LENGTH[v] as number;
  v = (n >>> 8) & 0xff;
  view.setUint32(q, OCTET_DOT[v] as number, true);
  q += OCTET_LENGTH[v] as number;
  v = n & 0xff;
  view.setUint32(q, OCTET_QUOTE[v] as number, true);
  return q + (OCTET_LENGTH[v] as number);
}

/**
 * Copies `n` bytes written earlier at `from` to `p` (room made by the caller for n + 4),
 * four at a time as integers (a float64 load could change a NaN's bits); returns p + n.
 * It may store up to 3 bytes past p + n, and reads up to 3 past from + n, so the copy
 * must lie at least 4 bytes after the end of its source.
 */
export function copyAt(view: DataView, p: number, from: number, n: number): number {
  for (let i = 0; i < n; i += 4) view.setInt32(p + i, view.getInt32(from + i, true), true);
  return p + n;
}
