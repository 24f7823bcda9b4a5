import { parseIp } from '../protocol/address.js';
import type { JsonOut } from './json-out.js';
import { digestBase64At, SHA1_WORDS, sha1Base64Into, sha1Base64Words } from './sha1.js';
import { MAX_GROUPS, OUTPUT_AT, sha1x4 } from './sha1x4.js';

// Community ID v1 (corelight/community-id-spec): SHA-1 over seed, the ordered endpoint
// addresses, protocol, a zero pad byte and the ordered ports, base64, prefixed "1:".
// ICMP type/code stand in for ports as in the spec's reference implementation: a type
// with a request/response counterpart pairs with that counterpart (two-way), any
// other pairs with its code and is one-way (never reordered).

/** ICMPv4 request/response counterparts: echo, router, timestamp, info, address mask. */
const ICMP4_PAIRS = new Map<number, number>([
  [8, 0],
  [0, 8],
  [13, 14],
  [14, 13],
  [15, 16],
  [16, 15],
  [10, 9],
  [9, 10],
  [17, 18],
  [18, 17],
]);

/** ICMPv6: echo, MLD query/report, router and neighbor discovery, node info, HAAD. */
const ICMP6_PAIRS = new Map<number, number>([
  [128, 129],
  [129, 128],
  [130, 131],
  [131, 130],
  [133, 134],
  [134, 133],
  [135, 136],
  [136, 135],
  [139, 140],
  [140, 139],
  [144, 145],
  [145, 144],
]);

export interface CommunityIdInput {
  srcAddr: string;
  dstAddr: string;
  protocol: number;
  srcPort?: number | undefined;
  dstPort?: number | undefined;
  icmpType?: number | undefined;
  icmpCode?: number | undefined;
  /** srcAddr as a number, when the decoder had one (FlowRecord.srcIpv4): no parsing. */
  srcIpv4?: number | undefined;
  /** dstAddr as a number, as srcIpv4. */
  dstIpv4?: number | undefined;
  /**
   * IPv6 addresses as bytes, when the decoder had them (an sFlow record's, SflowRecord):
   * the source at ip6At of `ip6` while srcIp6 is true, the destination at ip6At + 16
   * while dstIp6 is.
   */
  ip6?: Uint8Array | undefined;
  ip6At?: number | undefined;
  srcIp6?: boolean | undefined;
  dstIp6?: boolean | undefined;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

// Addresses are parsed into two scratch buffers per family rather than fresh arrays:
// this runs once per flow document.
const SCRATCH4 = [new Uint8Array(4), new Uint8Array(4)] as const;
const SCRATCH6 = [new Uint8Array(16), new Uint8Array(16)] as const;

/** Plain dotted-quad digits into `out`; false for anything else (left to parseIp). */
function fastIpv4(text: string, out: Uint8Array): boolean {
  const n = text.length;
  if (n < 7 || n > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      if (++digits > 3) return false;
    } else if (c === 46 && digits > 0 && part < 3) {
      if (value > 255) return false;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else return false;
  }
  if (part !== 3 || digits === 0 || value > 255) return false;
  out[3] = value;
  return true;
}

/** Hex groups between `from` and `to` (no `::` inside) as 16-bit words; -1 if not plain. */
function hexGroups(text: string, from: number, to: number, words: number[]): number {
  if (from === to) return 0;
  let count = 0;
  let value = 0;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text.charCodeAt(i) : 58;
    if (c === 58) {
      if (digits === 0) return -1;
      words.push(value);
      count++;
      value = 0;
      digits = 0;
      continue;
    }
    let h: number;
    if (c >= 48 && c <= 57) h = c - 48;
    else if (c >= 97 && c <= 102) h = c - 87;
    else if (c >= 65 && c <= 70) h = c - 55;
    else return -1;
    if (++digits > 4) return -1;
    value = value * 16 + h;
  }
  return count;
}

const words6: number[] = [];

/**
 * IPv6 text made only of hex groups and at most one `::` into `out`; false for
 * anything else (a dotted tail, invalid text), which parseIp then decides.
 */
function fastIpv6(text: string, out: Uint8Array): boolean {
  const gap = text.indexOf('::');
  words6.length = 0;
  let head: number;
  let tail = 0;
  if (gap < 0) {
    head = hexGroups(text, 0, text.length, words6);
    if (head !== 8) return false;
  } else {
    if (text.indexOf('::', gap + 2) >= 0) return false;
    head = hexGroups(text, 0, gap, words6);
    if (head < 0) return false;
    tail = hexGroups(text, gap + 2, text.length, words6);
    if (tail < 0 || head + tail > 7) return false;
  }
  out.fill(0);
  for (let i = 0; i < head; i++) {
    const w = words6[i] as number;
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  }
  for (let i = 0; i < tail; i++) {
    const w = words6[head + i] as number;
    const at = 8 - tail + i;
    out[2 * at] = w >> 8;
    out[2 * at + 1] = w & 0xff;
  }
  return true;
}

/** An IPv4 address given as a number, as bytes in a scratch buffer. */
function ipv4Bytes(n: number, slot: 0 | 1): Uint8Array {
  const out = SCRATCH4[slot];
  out[0] = n >>> 24;
  out[1] = n >>> 16;
  out[2] = n >>> 8;
  out[3] = n;
  return out;
}

/** 16 bytes of `ip6` from `at`, in a scratch buffer. */
function ipv6Bytes(ip6: Uint8Array, at: number, slot: 0 | 1): Uint8Array {
  const out = SCRATCH6[slot];
  for (let i = 0; i < 16; i++) out[i] = ip6[at + i] as number;
  return out;
}

/** The address bytes (possibly a scratch buffer, valid until the next call), or undefined. */
function addressBytes(text: string, slot: 0 | 1): Uint8Array | undefined {
  if (text.includes(':')) {
    const out = SCRATCH6[slot];
    return fastIpv6(text, out) ? out : parseIp(text);
  }
  const out = SCRATCH4[slot];
  return fastIpv4(text, out) ? out : parseIp(text);
}

// The hash input: seed (2), two addresses (4 or 16 each), protocol, pad, ports (4):
// at most 40 bytes, one SHA-1 block. One preallocated buffer, for the same reason as
// the scratch.
const INPUT = new Uint8Array(40);
const TEXT = Buffer.alloc(30);
TEXT.write('1:');
const TEXT_VIEW = new DataView(TEXT.buffer, TEXT.byteOffset, TEXT.byteLength);

/** The ports of a flow's hash input (portsOf's answer; one object, reused). */
const PORTS: { sport: number | undefined; dport: number | undefined; oneWay: boolean } = {
  sport: undefined,
  dport: undefined,
  oneWay: false,
};

/**
 * The spec's port rule, into PORTS: TCP, UDP and SCTP take their ports; ICMP and ICMPv6
 * the type and the paired type (a request and its reply hash alike), or the code for a
 * type without a pair (one-way: the endpoints are not put in order); other protocols
 * none. False when the tuple makes no Community ID (a port or the type missing).
 */
function portsOf(f: CommunityIdInput): boolean {
  const protocol = f.protocol;
  PORTS.sport = undefined;
  PORTS.dport = undefined;
  PORTS.oneWay = false;
  if (protocol === 6 || protocol === 17 || protocol === 132) {
    if (f.srcPort === undefined || f.dstPort === undefined) return false;
    PORTS.sport = f.srcPort;
    PORTS.dport = f.dstPort;
  } else if (protocol === 1 || protocol === 58) {
    const type = f.icmpType;
    if (type === undefined) return false;
    const pair = (protocol === 1 ? ICMP4_PAIRS : ICMP6_PAIRS).get(type);
    PORTS.sport = type;
    if (pair !== undefined) PORTS.dport = pair;
    else {
      PORTS.dport = f.icmpCode ?? 0;
      PORTS.oneWay = true;
    }
  }
  return true;
}

/** Writes the hash input of a flow into INPUT: its length, or 0 when the tuple makes none. */
function hashInput(f: CommunityIdInput, seed: number): number {
  const ip6 = f.ip6;
  const src =
    f.srcIpv4 !== undefined
      ? ipv4Bytes(f.srcIpv4, 0)
      : f.srcIp6 === true && ip6 !== undefined
        ? ipv6Bytes(ip6, f.ip6At ?? 0, 0)
        : addressBytes(f.srcAddr, 0);
  const dst =
    f.dstIpv4 !== undefined
      ? ipv4Bytes(f.dstIpv4, 1)
      : f.dstIp6 === true && ip6 !== undefined
        ? ipv6Bytes(ip6, (f.ip6At ?? 0) + 16, 1)
        : addressBytes(f.dstAddr, 1);
  if (!src || !dst || src.length !== dst.length) return 0;
  const protocol = f.protocol;
  if (!portsOf(f)) return 0;
  const { sport, dport, oneWay } = PORTS;
  // The endpoints in order (no swap of arrays: the copies below take them crosswise).
  let swap = false;
  if (!oneWay) {
    const c = compareBytes(src, dst);
    swap = c > 0 || (c === 0 && sport !== undefined && dport !== undefined && sport > dport);
  }
  const first = swap ? dst : src;
  const second = swap ? src : dst;
  const n = src.length;
  const buf = INPUT;
  buf[0] = (seed >> 8) & 0xff;
  buf[1] = seed & 0xff;
  for (let i = 0; i < n; i++) {
    buf[2 + i] = first[i] as number;
    buf[2 + n + i] = second[i] as number;
  }
  let o = 2 + n * 2;
  buf[o++] = protocol & 0xff;
  buf[o++] = 0;
  if (sport !== undefined && dport !== undefined) {
    const a = swap ? dport : sport;
    const b = swap ? sport : dport;
    buf[o++] = (a >> 8) & 0xff;
    buf[o++] = a & 0xff;
    buf[o++] = (b >> 8) & 0xff;
    buf[o++] = b & 0xff;
  }
  return o;
}

/** The Community ID of a flow, or undefined when the tuple cannot make one. */
export function communityId(f: CommunityIdInput, seed = 0): string | undefined {
  const n = hashInput(f, seed);
  if (n === 0) return undefined;
  sha1Base64Into(INPUT, n, TEXT_VIEW, 2);
  return TEXT.toString('latin1', 0, 30);
}

/**
 * The hash input of a flow whose addresses are both IPv4 numbers, straight into the
 * SHA-1 block's words (SHA1_WORDS): what hashInput makes, without the bytes. Returns
 * false when the tuple makes none.
 */
function ipv4Words(
  f: CommunityIdInput,
  src: number,
  dst: number,
  seed: number,
  w: Int32Array,
  at: number,
  stride: number,
): boolean {
  const protocol = f.protocol;
  if (!portsOf(f)) return false;
  const { sport, dport, oneWay } = PORTS;
  // Big-endian bytes compare as the unsigned numbers do.
  const a4 = src >>> 0;
  const b4 = dst >>> 0;
  const swap =
    !oneWay &&
    (a4 > b4 || (a4 === b4 && sport !== undefined && dport !== undefined && sport > dport));
  const first = swap ? b4 : a4;
  const second = swap ? a4 : b4;
  // seed(2) first(4) second(4) protocol pad [ports(4)], the 0x80 marker, the bit length.
  w[at] = ((seed & 0xffff) << 16) | (first >>> 16);
  w[at + stride] = (first << 16) | (second >>> 16);
  w[at + 2 * stride] = (second << 16) | ((protocol & 0xff) << 8);
  if (sport !== undefined && dport !== undefined) {
    const a = swap ? dport : sport;
    const b = swap ? sport : dport;
    w[at + 3 * stride] = ((a & 0xffff) << 16) | (b & 0xffff);
    w[at + 4 * stride] = 0x80000000 | 0;
    w[at + 15 * stride] = 128;
  } else {
    w[at + 3 * stride] = 0x80000000 | 0;
    w[at + 4 * stride] = 0;
    w[at + 15 * stride] = 96;
  }
  // Words 5 to 14 are zero, which the caller sees to (the SIMD memory never holds
  // anything else there; SHA1_WORDS is shared with sha1Base64Into).
  return true;
}

/**
 * Writes the Community ID of a flow as a JSON string (`"1:<base64>"`); false, and
 * nothing written, when the tuple cannot make one.
 */
export function writeCommunityId(o: JsonOut, f: CommunityIdInput, seed = 0): boolean {
  if (aheadNext < aheadCount && ahead[aheadNext] === f && seed === aheadSeed) {
    // Worked out ahead: its 32 bytes of text as four 8-byte chunks (ASCII: none a NaN).
    o.reserve(32);
    const view = o.view;
    const p = o.pos;
    const c = aheadNext * 4;
    view.setFloat64(p, aheadChunks[c] as number, true);
    view.setFloat64(p + 8, aheadChunks[c + 1] as number, true);
    view.setFloat64(p + 16, aheadChunks[c + 2] as number, true);
    view.setFloat64(p + 24, aheadChunks[c + 3] as number, true);
    o.pos = p + 32;
    aheadNext++;
    return true;
  }
  const src = f.srcIpv4;
  const dst = f.dstIpv4;
  let n = 0;
  if (src !== undefined && dst !== undefined) {
    if (!ipv4Words(f, src, dst, seed, SHA1_WORDS, 0, 1)) return false;
    for (let i = 5; i < 15; i++) SHA1_WORDS[i] = 0;
  } else {
    n = hashInput(f, seed);
    if (n === 0) return false;
  }
  o.reserve(32);
  const b = o.buf;
  const p = o.pos;
  b[p] = 0x22;
  b[p + 1] = 0x31; // 1
  b[p + 2] = 0x3a; // :
  if (n === 0) sha1Base64Words(o.view, p + 3);
  else sha1Base64Into(INPUT, n, o.view, p + 3);
  b[p + 31] = 0x22;
  o.pos = p + 32;
  return true;
}

// Community IDs worked out ahead for a run of flows (a datagram's records, before their
// documents are written), their SHA-1 blocks hashed four at a time (sha1x4.ts) instead
// of one by one. writeCommunityId takes a text when the flow it is given is the next one
// worked out, by identity; any other flow (one written out of order or twice) is hashed
// on its own, so a mismatch costs time, never a wrong ID.
// communityIdsDone forgets them: records are recycled, and a record object of a later
// datagram may be one of these with other contents.

/** The flows worked out, in order; their texts (`"1:<base64>"`, 32 bytes each). */
const ahead: CommunityIdInput[] = [];
let aheadBytes = new Uint8Array(32 * 256);
let aheadView = new DataView(aheadBytes.buffer);
let aheadChunks = new Float64Array(aheadBytes.buffer);
let aheadCount = 0;
let aheadNext = 0;
let aheadSeed = 0;

/** Flows per call to the SIMD hasher. */
const PER_RUN = MAX_GROUPS * 4;
/** Lanes whose words 5 to 14 a byte input set (ipv4Words leaves them to be zero). */
const dirty = new Uint8Array(PER_RUN);

/** INPUT's first n bytes (at most 40) as a padded block, word j at `at + 4j`. */
function inputWords(n: number, w: Int32Array, at: number): void {
  for (let j = 0; j < 16; j++) w[at + j * 4] = 0;
  for (let i = 0; i < n; i++) {
    const k = at + (i >> 2) * 4;
    w[k] = (w[k] as number) | ((INPUT[i] as number) << (24 - ((i & 3) << 3)));
  }
  const k = at + (n >> 2) * 4;
  w[k] = (w[k] as number) | (0x80 << (24 - ((n & 3) << 3)));
  w[at + 60] = n << 3;
}

/**
 * Works out the Community IDs of `flows`, for the writeCommunityId calls that follow in
 * the same order; until communityIdsDone.
 */
export function communityIdsAhead(flows: readonly CommunityIdInput[], seed = 0): void {
  aheadCount = 0;
  aheadNext = 0;
  aheadSeed = seed;
  if (flows.length < 2) return;
  const x4 = sha1x4();
  if (x4 === undefined) return;
  const words = x4.words;
  if (aheadBytes.length < flows.length * 32) {
    aheadBytes = new Uint8Array(flows.length * 32);
    aheadView = new DataView(aheadBytes.buffer);
    aheadChunks = new Float64Array(aheadBytes.buffer);
  }
  let lanes = 0;
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i] as CommunityIdInput;
    // A flow no writer hashes (no protocol) would hold up the ones after it.
    if (typeof f.protocol !== 'number') continue;
    const src = f.srcIpv4;
    const dst = f.dstIpv4;
    const at = (lanes >> 2) * 64 + (lanes & 3);
    // writeCommunityId's two ways: the words from IPv4 numbers, else the input's bytes.
    if (src !== undefined && dst !== undefined) {
      if (typeof src !== 'number' || typeof dst !== 'number') continue;
      if (!ipv4Words(f, src, dst, seed, words, at, 4)) continue;
      if (dirty[lanes] === 1) {
        for (let j = 5; j < 15; j++) words[at + j * 4] = 0;
        dirty[lanes] = 0;
      }
    } else {
      const n = hashInput(f, seed);
      if (n === 0) continue;
      inputWords(n, words, at);
      dirty[lanes] = 1;
    }
    ahead[aheadCount + lanes] = f;
    if (++lanes === PER_RUN) {
      hashLanes(x4.run, words, lanes);
      lanes = 0;
    }
  }
  if (lanes > 0) hashLanes(x4.run, words, lanes);
}

/** Hashes the `lanes` blocks placed and appends their texts. */
function hashLanes(run: (groups: number) => void, words: Int32Array, lanes: number): void {
  run((lanes + 3) >> 2);
  const view = aheadView;
  for (let j = 0; j < lanes; j++) {
    const d = OUTPUT_AT + (j >> 2) * 20 + (j & 3);
    const p = (aheadCount + j) * 32;
    view.setUint32(p, 0x003a3122, true); // "1:
    digestBase64At(
      view,
      p + 3,
      words[d] as number,
      words[d + 4] as number,
      words[d + 8] as number,
      words[d + 12] as number,
      words[d + 16] as number,
    );
    view.setUint8(p + 31, 0x22);
  }
  aheadCount += lanes;
}

/** Forgets the flows communityIdsAhead worked out. */
export function communityIdsDone(): void {
  aheadCount = 0;
  aheadNext = 0;
}
