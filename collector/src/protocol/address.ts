/** Text forms of addresses found in flow records: dotted IPv4, RFC 5952 IPv6, MAC. */

export function ipv4ToString(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** IPv6 text per RFC 5952: lower case, leading zeros dropped, longest zero run (>1) as ::. */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const words: number[] = new Array(8);
  for (let i = 0; i < 8; i++)
    words[i] = ((b[off + 2 * i] as number) << 8) | (b[off + 2 * i + 1] as number);
  // IPv4-mapped ::ffff:a.b.c.d keeps its dotted tail (RFC 5952 section 5).
  if (
    words[0] === 0 &&
    words[1] === 0 &&
    words[2] === 0 &&
    words[3] === 0 &&
    words[4] === 0 &&
    words[5] === 0xffff
  ) {
    return `::ffff:${ipv4ToString(b, off + 12)}`;
  }
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
  const hex = (w: number | undefined) => (w ?? 0).toString(16);
  if (bestStart < 0) return words.map(hex).join(':');
  const head = words.slice(0, bestStart).map(hex).join(':');
  const tail = words
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${head}::${tail}`;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** MAC address as six colon-separated lower-case hex pairs. */
export function macToString(b: Uint8Array, off = 0): string {
  return `${HEX[b[off] as number]}:${HEX[b[off + 1] as number]}:${HEX[b[off + 2] as number]}:${HEX[b[off + 3] as number]}:${HEX[b[off + 4] as number]}:${HEX[b[off + 5] as number]}`;
}

export function hexString(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += HEX[x];
  return s;
}
