// SHA-1 (FIPS 180-4) of many one-block messages at once, four per WebAssembly SIMD
// instruction (i32x4 lanes). Community ID hashes one block per flow document; the scalar
// JavaScript SHA-1 (sha1.ts) was about a tenth of a decode worker's time per document.
// Four lanes do one round in about the instructions one scalar round takes, so a group
// of four blocks costs roughly what one did.
//
// The module is written here as bytes (no toolchain, nothing to fetch): one function,
// `run(groups)`, over the first `groups` groups of four padded blocks in its memory. A
// group is 16 words x 4 lanes (word j of block k at int32 index j * 4 + k); the digests
// go to OUTPUT_AT, 5 words x 4 lanes per group. The 80 rounds are unrolled with the
// working variables renamed from round to round instead of moved, and the message
// schedule is kept as 16 locals computed as it is consumed (the scalar version's shape).
// Where WebAssembly or its SIMD is unavailable, `sha1x4()` answers undefined and the
// caller hashes one block at a time. sha1x4.test.ts compares digests with node:crypto.

/** Groups of four blocks one call takes at most. */
export const MAX_GROUPS = 128;
/** Int32 index of the first digest word in the memory. */
export const OUTPUT_AT = MAX_GROUPS * 64;

const I32 = 0x7f;
const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

// The instructions used (core and SIMD: 0xfd, then the SIMD opcode in LEB128).
const SIMD = (op: number) => [0xfd, ...uleb(op)];
const V128_LOAD = SIMD(0x00);
const V128_STORE = SIMD(0x0b);
const V128_CONST = SIMD(0x0c);
const V128_OR = SIMD(0x50);
const V128_XOR = SIMD(0x51);
const V128_BITSELECT = SIMD(0x52);
const I32X4_SHL = SIMD(0xab);
const I32X4_SHR_U = SIMD(0xad);
const I32X4_ADD = SIMD(0xae);
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const EMPTY = 0x40;
const I32_EQZ = 0x45;

/** Local indices: the parameter, two pointers, the schedule, the working variables. */
const GROUPS = 0;
const IN = 1;
const OUT = 2;
const W = 3; // w0..w15: 3..18
const VARS = 19; // a..e: 19..23

const H = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
const K = [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6];

function splat(x: number): number[] {
  const out = [...V128_CONST];
  for (let lane = 0; lane < 4; lane++) {
    for (let i = 0; i < 4; i++) out.push((x >>> (8 * i)) & 0xff);
  }
  return out;
}

/** rotl(local, n) on the stack. */
function rotl(local: number, n: number): number[] {
  return [
    LOCAL_GET,
    local,
    I32_CONST,
    ...sleb(n),
    ...I32X4_SHL,
    LOCAL_GET,
    local,
    I32_CONST,
    ...sleb(32 - n),
    ...I32X4_SHR_U,
    ...V128_OR,
  ];
}

/** The function body: locals, then the loop over groups. */
function body(): number[] {
  const code: number[] = [];
  const emit = (...b: number[]) => {
    for (const x of b) code.push(x);
  };
  // if (groups === 0) return; in = 0; out = OUTPUT_AT * 4
  emit(BLOCK, EMPTY, LOCAL_GET, GROUPS, I32_EQZ, BR_IF, 0);
  emit(I32_CONST, ...sleb(0), LOCAL_SET, IN);
  emit(I32_CONST, ...sleb(OUTPUT_AT * 4), LOCAL_SET, OUT);
  emit(LOOP, EMPTY);
  for (let j = 0; j < 16; j++) {
    emit(LOCAL_GET, IN, ...V128_LOAD, 4, ...uleb(j * 16), LOCAL_SET, W + j);
  }
  for (let i = 0; i < 5; i++) emit(...splat(H[i] as number), LOCAL_SET, VARS + i);
  // v[0..4] name the locals holding a..e this round.
  let v = [VARS, VARS + 1, VARS + 2, VARS + 3, VARS + 4];
  for (let t = 0; t < 80; t++) {
    const [a, b, c, d, e] = v as [number, number, number, number, number];
    // e += rotl(a, 5) + f(b, c, d) + K + w[t]
    emit(...rotl(a, 5), LOCAL_GET, e, ...I32X4_ADD);
    if (t < 20) emit(LOCAL_GET, c, LOCAL_GET, d, LOCAL_GET, b, ...V128_BITSELECT);
    else if (t >= 40 && t < 60) {
      emit(LOCAL_GET, d, LOCAL_GET, b, LOCAL_GET, b, LOCAL_GET, c, ...V128_XOR, ...V128_BITSELECT);
    } else emit(LOCAL_GET, b, LOCAL_GET, c, ...V128_XOR, LOCAL_GET, d, ...V128_XOR);
    emit(...I32X4_ADD, ...splat(K[Math.floor(t / 20)] as number), ...I32X4_ADD);
    const ws = W + (t & 15);
    if (t < 16) emit(LOCAL_GET, ws);
    else {
      // w[t] = rotl(w[t-3] ^ w[t-8] ^ w[t-14] ^ w[t-16], 1), into w[t & 15]
      emit(LOCAL_GET, W + ((t - 3) & 15), LOCAL_GET, W + ((t - 8) & 15), ...V128_XOR);
      emit(LOCAL_GET, W + ((t - 14) & 15), ...V128_XOR, LOCAL_GET, ws, ...V128_XOR);
      emit(LOCAL_SET, ws, ...rotl(ws, 1), LOCAL_TEE, ws);
    }
    emit(...I32X4_ADD, LOCAL_SET, e);
    // b = rotl(b, 30)
    emit(...rotl(b, 30), LOCAL_SET, b);
    // (a, b, c, d, e) = (new value, a, rotl(b), c, d)
    v = [e, a, b, c, d];
  }
  // The digest: H + the working variables, at out.
  for (let i = 0; i < 5; i++) {
    emit(LOCAL_GET, OUT, LOCAL_GET, v[i] as number, ...splat(H[i] as number), ...I32X4_ADD);
    emit(...V128_STORE, 4, ...uleb(i * 16));
  }
  // in += 256; out += 80; if (--groups !== 0) continue
  emit(LOCAL_GET, IN, I32_CONST, ...sleb(256), I32_ADD, LOCAL_SET, IN);
  emit(LOCAL_GET, OUT, I32_CONST, ...sleb(80), I32_ADD, LOCAL_SET, OUT);
  emit(LOCAL_GET, GROUPS, I32_CONST, ...sleb(1), I32_SUB, LOCAL_TEE, GROUPS, BR_IF, 0);
  emit(END, END, END);
  // Locals: 2 i32 (in, out), 21 v128 (w0..w15, a..e).
  const locals = [2, 2, I32, 21, V128];
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** The module's bytes. */
export function sha1x4Module(): Uint8Array {
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    // type 0: (i32) -> ()
    ...section(1, [1, 0x60, 1, I32, 0]),
    ...section(3, [1, 0]),
    // one page (64 KiB): MAX_GROUPS * (256 + 80) bytes
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name('memory'), 0x02, 0, ...name('run'), 0x00, 0]),
    ...section(10, [1, ...body()]),
  ];
  return Uint8Array.from(bytes);
}

/** The hashing function and the memory it reads blocks from and writes digests to. */
export interface Sha1x4 {
  /** Hashes groups 0..groups-1 (at most MAX_GROUPS). */
  readonly run: (groups: number) => void;
  /** The memory as words: blocks from 0, digests from OUTPUT_AT. */
  readonly words: Int32Array;
}

/** What is used of WebAssembly's API (the project's TypeScript libraries do not declare it). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: object,
  ) => { exports: { memory: { buffer: ArrayBuffer }; run: (groups: number) => void } };
}

let made: Sha1x4 | null | undefined;

/** The SIMD hasher, or undefined where WebAssembly SIMD cannot run (made once). */
export function sha1x4(): Sha1x4 | undefined {
  if (made === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
      const inst = new wasm.Instance(new wasm.Module(sha1x4Module()), {});
      made = { run: inst.exports.run, words: new Int32Array(inst.exports.memory.buffer) };
    } catch {
      made = null;
    }
  }
  return made ?? undefined;
}
