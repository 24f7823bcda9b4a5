/**
 * TEST-ONLY: builds sFlow datagrams word by word (XDR: big-endian 32-bit words, opaque
 * data padded to 4 bytes), for the cases no capture carries (v2/v4, counter samples,
 * unusual records). Layouts follow sflow_version_5.txt and RFC 3176 section 5.
 */
export class Xdr {
  private readonly parts: number[] = [];

  u32(...values: number[]): this {
    for (const v of values)
      this.parts.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
    return this;
  }

  u64(v: bigint): this {
    return this.u32(Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn));
  }

  /** Raw bytes padded with zeros to a multiple of 4. */
  opaque(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.parts.push((bytes[i] as number) & 255);
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }

  /** Variable-length opaque / string: length word, bytes, padding. */
  vopaque(bytes: ArrayLike<number>): this {
    return this.u32(bytes.length).opaque(bytes);
  }

  string(s: string): this {
    return this.vopaque(new TextEncoder().encode(s));
  }

  ipv4(a: string): this {
    return this.u32(1).opaque(a.split('.').map(Number));
  }

  /** Address of type 2 from 8 groups written out in full (no ::). */
  ipv6(a: string): this {
    const bytes: number[] = [];
    for (const g of a.split(':'))
      bytes.push(Number.parseInt(g, 16) >> 8, Number.parseInt(g, 16) & 255);
    return this.u32(2).opaque(bytes);
  }

  /** A v5 sample or record: (enterprise << 12 | format), length, body. */
  record(enterprise: number, format: number, body: Xdr): this {
    const b = body.bytes();
    return this.u32(((enterprise << 12) | format) >>> 0, b.length).opaque(b);
  }

  append(other: Xdr): this {
    this.parts.push(...other.bytes());
    return this;
  }

  get length(): number {
    return this.parts.length;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export const xdr = () => new Xdr();
