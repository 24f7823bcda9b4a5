import type { ElementInfo } from '../ipfix/registry/index.js';
import type { FlowField } from './types.js';

// An IPv4 address field whose text is made only when someone reads it. The decoder
// reads three or more addresses per flow record and the indexing path never needs
// their text: the document writer writes the digits from the number (FlowField.ipv4)
// and Community ID hashes its bytes. Making the strings anyway was about a quarter of
// the decode time.

const DOT = Array.from({ length: 256 }, (_, i) => `${i}.`);
const DIGITS = Array.from({ length: 256 }, (_, i) => `${i}`);

/** Dotted-quad text of an address given as an unsigned 32-bit number (as ipv4ToString). */
export function ipv4Text(n: number): string {
  return (
    (DOT[n >>> 24] as string) +
    (DOT[(n >>> 16) & 0xff] as string) +
    (DOT[(n >>> 8) & 0xff] as string) +
    (DIGITS[n & 0xff] as string)
  );
}

export class Ipv4Field implements FlowField {
  private text: string | undefined = undefined;

  constructor(
    readonly info: ElementInfo,
    readonly ipv4: number,
  ) {}

  /** The dotted-quad text, made on first read. */
  get value(): string {
    if (this.text === undefined) this.text = ipv4Text(this.ipv4);
    return this.text;
  }
}
