// SHA-1 (FIPS 180-4) of a message of at most 55 bytes, one 64-byte block, written as
// base64 text straight into a byte buffer. It exists for Community ID, whose hash input
// is 12 to 40 bytes: computing it here costs about what one call into OpenSSL does,
// and writes the 28 base64 characters without creating a string.

const W = new Int32Array(80);
const H = new Int32Array(5);
const DIGEST = new Uint8Array(20);
const B64 = new TextEncoder().encode(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
);

/** Longest message one block holds (with the 0x80 marker and the 64-bit length). */
export const SHA1_MAX_ONE_BLOCK = 55;

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** The digest of `msg[0..len)`, len <= 55, into DIGEST. */
function digest(msg: Uint8Array, len: number): void {
  for (let i = 0; i < 16; i++) W[i] = 0;
  for (let i = 0; i < len; i++) {
    W[i >> 2] = (W[i >> 2] as number) | ((msg[i] as number) << (24 - ((i & 3) << 3)));
  }
  W[len >> 2] = (W[len >> 2] as number) | (0x80 << (24 - ((len & 3) << 3)));
  W[15] = len * 8;
  for (let i = 16; i < 80; i++) {
    W[i] = rotl(
      (W[i - 3] as number) ^ (W[i - 8] as number) ^ (W[i - 14] as number) ^ (W[i - 16] as number),
      1,
    );
  }
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  let e = 0xc3d2e1f0 | 0;
  for (let i = 0; i < 20; i++) {
    const t = (rotl(a, 5) + ((b & c) | (~b & d)) + e + 0x5a827999 + (W[i] as number)) | 0;
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (rotl(a, 5) + (b ^ c ^ d) + e + 0x6ed9eba1 + (W[i] as number)) | 0;
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t =
      (rotl(a, 5) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + (W[i] as number)) | 0;
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (rotl(a, 5) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + (W[i] as number)) | 0;
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  H[0] = (a + 0x67452301) | 0;
  H[1] = (b + 0xefcdab89) | 0;
  H[2] = (c + 0x98badcfe) | 0;
  H[3] = (d + 0x10325476) | 0;
  H[4] = (e + 0xc3d2e1f0) | 0;
  for (let i = 0; i < 5; i++) {
    const h = H[i] as number;
    DIGEST[4 * i] = h >>> 24;
    DIGEST[4 * i + 1] = h >>> 16;
    DIGEST[4 * i + 2] = h >>> 8;
    DIGEST[4 * i + 3] = h;
  }
}

/**
 * Writes the base64 text of SHA-1(msg[0..len)) (28 characters, `=` padded) into `out`
 * at `off`. len must be at most SHA1_MAX_ONE_BLOCK.
 */
export function sha1Base64Into(msg: Uint8Array, len: number, out: Uint8Array, off: number): void {
  if (len > SHA1_MAX_ONE_BLOCK) throw new RangeError(`sha1Base64Into: ${len} bytes > 55`);
  digest(msg, len);
  let o = off;
  for (let i = 0; i < 18; i += 3) {
    const v =
      ((DIGEST[i] as number) << 16) | ((DIGEST[i + 1] as number) << 8) | (DIGEST[i + 2] as number);
    out[o++] = B64[v >>> 18] as number;
    out[o++] = B64[(v >>> 12) & 63] as number;
    out[o++] = B64[(v >>> 6) & 63] as number;
    out[o++] = B64[v & 63] as number;
  }
  const v = ((DIGEST[18] as number) << 16) | ((DIGEST[19] as number) << 8);
  out[o++] = B64[v >>> 18] as number;
  out[o++] = B64[(v >>> 12) & 63] as number;
  out[o++] = B64[(v >>> 6) & 63] as number;
  out[o] = 0x3d; // =
}
