// Test-only byte builders for NetFlow v9 and IPFIX messages. Layouts from RFC 7011
// (IPFIX) and RFC 3954 (NetFlow v9); used to make inputs, never as expected values.

export class Bytes {
  private parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.u16(Math.floor(v / 0x10000)).u16(v & 0xffff);
  }
  u64(v: bigint): this {
    return this.u32(Number(v >> 32n)).u32(Number(v & 0xffffffffn));
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push((b[i] as number) & 0xff);
    return this;
  }
  ip4(s: string): this {
    return this.raw(s.split('.').map(Number));
  }
  text(s: string): this {
    return this.raw(new TextEncoder().encode(s));
  }
  get length(): number {
    return this.parts.length;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface FieldSpec {
  id: number;
  length: number;
  enterprise?: number;
}

/** A set: 2-byte id, 2-byte length, body, padded to `padTo` bytes. */
export function set(id: number, body: Uint8Array, padTo = 0): Uint8Array {
  const pad = padTo > 0 ? (padTo - ((body.length + 4) % padTo)) % padTo : 0;
  return new Bytes()
    .u16(id)
    .u16(body.length + 4 + pad)
    .raw(body)
    .raw(new Array(pad).fill(0))
    .bytes();
}

export function ipfixTemplateRecord(
  id: number,
  fields: FieldSpec[],
  scopeCount?: number,
): Uint8Array {
  const b = new Bytes().u16(id).u16(fields.length);
  if (scopeCount !== undefined) b.u16(scopeCount);
  for (const f of fields) {
    if (f.enterprise)
      b.u16(f.id | 0x8000)
        .u16(f.length)
        .u32(f.enterprise);
    else b.u16(f.id).u16(f.length);
  }
  return b.bytes();
}

export function ipfixMessage(
  sets: Uint8Array[],
  { domain = 1, sequence = 0, exportSecs = 1_700_000_000 } = {},
): Uint8Array {
  const body = sets.reduce((n, s) => n + s.length, 0);
  const b = new Bytes()
    .u16(10)
    .u16(16 + body)
    .u32(exportSecs)
    .u32(sequence)
    .u32(domain);
  for (const s of sets) b.raw(s);
  return b.bytes();
}

export function v9TemplateRecord(id: number, fields: FieldSpec[]): Uint8Array {
  const b = new Bytes().u16(id).u16(fields.length);
  for (const f of fields) b.u16(f.id).u16(f.length);
  return b.bytes();
}

export function v9OptionsTemplateRecord(
  id: number,
  scopes: FieldSpec[],
  options: FieldSpec[],
): Uint8Array {
  const b = new Bytes()
    .u16(id)
    .u16(scopes.length * 4)
    .u16(options.length * 4);
  for (const f of [...scopes, ...options]) b.u16(f.id).u16(f.length);
  return b.bytes();
}

export function v9Packet(
  flowsets: Uint8Array[],
  { sourceId = 0, sequence = 0, unixSecs = 1_700_000_000, uptimeMs = 100_000, count = 0 } = {},
): Uint8Array {
  const b = new Bytes().u16(9).u16(count).u32(uptimeMs).u32(unixSecs).u32(sequence).u32(sourceId);
  for (const s of flowsets) b.raw(s);
  return b.bytes();
}
