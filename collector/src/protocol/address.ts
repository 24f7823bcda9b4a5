/** Text forms of addresses found in flow records: dotted IPv4, RFC 5952 IPv6, MAC. */

export function ipv4ToString(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

const WORDS = new Uint16Array(8);

/** The eight 16-bit words of the IPv6 address at `b[off]`, into `words`. */
export function ipv6Words(b: Uint8Array, off: number, words: Uint16Array): void {
  for (let i = 0; i < 8; i++) {
    words[i] = ((b[off + 2 * i] as number) << 8) | (b[off + 2 * i + 1] as number);
  }
}

/** An IPv4-mapped address (::ffff:a.b.c.d), whose text keeps a dotted tail (RFC 5952 section 5). */
export function isIpv4Mapped(words: Uint16Array): boolean {
  return (
    words[0] === 0 &&
    words[1] === 0 &&
    words[2] === 0 &&
    words[3] === 0 &&
    words[4] === 0 &&
    words[5] === 0xffff
  );
}

/**
 * The run of zero words RFC 5952 writes as `::`: the longest of two words or more, the
 * first of equal ones. Returned as start * 16 + length (no object per address), -1 if none.
 */
export function longestZeroRun(words: Uint16Array): number {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  return bestStart < 0 ? -1 : bestStart * 16 + bestLen;
}

/** IPv6 text per RFC 5952: lower case, leading zeros dropped, longest zero run (>1) as ::. */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const words = WORDS;
  ipv6Words(b, off, words);
  if (isIpv4Mapped(words)) return `::ffff:${ipv4ToString(b, off + 12)}`;
  const run = longestZeroRun(words);
  const bestStart = run < 0 ? -1 : run >> 4;
  const bestLen = run & 15;
  // Hex groups joined by ':', the longest zero run (if any) replaced by '::'.
  let s = '';
  if (bestStart < 0) {
    for (let i = 0; i < 8; i++) s += i === 0 ? hex16(words[i]) : `:${hex16(words[i])}`;
    return s;
  }
  for (let i = 0; i < bestStart; i++) s += i === 0 ? hex16(words[i]) : `:${hex16(words[i])}`;
  s += '::';
  const tail = bestStart + bestLen;
  for (let i = tail; i < 8; i++) s += i === tail ? hex16(words[i]) : `:${hex16(words[i])}`;
  return s;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** A byte's hex digits without leading zeros. */
const HEX_SHORT = Array.from({ length: 256 }, (_, i) => i.toString(16));

/** A 16-bit word as `w.toString(16)` writes it, from two tables instead of the radix conversion. */
function hex16(w: number | undefined): string {
  const v = w ?? 0;
  const hi = v >>> 8;
  return hi === 0
    ? (HEX_SHORT[v & 0xff] as string)
    : (HEX_SHORT[hi] as string) + (HEX[v & 0xff] as string);
}

/** MAC address as six colon-separated lower-case hex pairs. */
export function macToString(b: Uint8Array, off = 0): string {
  return `${HEX[b[off] as number]}:${HEX[b[off + 1] as number]}:${HEX[b[off + 2] as number]}:${HEX[b[off + 3] as number]}:${HEX[b[off + 4] as number]}:${HEX[b[off + 5] as number]}`;
}

export function hexString(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += HEX[x];
  return s;
}

/** Parses dotted IPv4 or IPv6 text (incl. :: and a dotted tail) to bytes; undefined if invalid. */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.includes(':')) return parseIpv6(text);
  return parseIpv4(text);
}

function parseIpv4(text: string, out = new Uint8Array(4), off = 0): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (p.length === 0 || p.length > 3) return undefined;
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
    out[off + i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s.length === 0 ? [] : s.split(':'));
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  const words: number[] = [];
  const push = (gs: string[], into: number[]): boolean => {
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i] as string;
      if (g.includes('.') && i === gs.length - 1) {
        const v4 = parseIpv4(g);
        if (!v4) return false;
        into.push(
          ((v4[0] as number) << 8) | (v4[1] as number),
          ((v4[2] as number) << 8) | (v4[3] as number),
        );
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      into.push(Number.parseInt(g, 16));
    }
    return true;
  };
  const tailWords: number[] = [];
  if (!push(head, words) || !push(tail, tailWords)) return undefined;
  const missing = 8 - words.length - tailWords.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [
    ...words,
    ...new Array<number>(halves.length === 2 ? missing : 0).fill(0),
    ...tailWords,
  ];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (all[i] as number) >> 8;
    out[2 * i + 1] = (all[i] as number) & 0xff;
  }
  return out;
}
