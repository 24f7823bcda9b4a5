import { crc32 } from 'node:zlib';
import { ipv4ToString, ipv6ToString, parseIp } from '../../protocol/address.js';

/**
 * One journal entry on disk (big-endian):
 *
 *   u32 body length | u32 CRC-32 of the body | body
 *   body = f64 arrival ms | u8 family (4|6) | 16 bytes address | u16 exporter port |
 *          u16 local port | datagram bytes
 *
 * The CRC covers the whole body, so a torn or corrupted entry is detected before any
 * of its fields are trusted.
 */
export const ENTRY_HEADER = 8;
export const BODY_FIXED = 8 + 1 + 16 + 2 + 2;
/** The largest UDP payload; a length beyond it is corruption. */
export const MAX_PAYLOAD = 65_535;

export interface JournalDatagram {
  /** Arrival time, ms since the Unix epoch. */
  readonly receivedMs: number;
  readonly exporter: string;
  readonly exporterPort: number;
  /** The collector port it arrived on. */
  readonly localPort: number;
  readonly bytes: Uint8Array;
}

export interface JournalEntry extends JournalDatagram {
  /** Global byte position of the entry: unique, increasing, stable across restarts. */
  readonly position: number;
  /** Bytes the entry takes on disk. */
  readonly size: number;
}

export function encodedSize(payload: number): number {
  return ENTRY_HEADER + BODY_FIXED + payload;
}

/** Encodes an entry into `out` at `off`; returns the bytes written. */
export function encodeEntry(d: JournalDatagram, out: Buffer, off: number): number {
  const addr = parseIp(d.exporter);
  const bodyLen = BODY_FIXED + d.bytes.length;
  const body = off + ENTRY_HEADER;
  out.writeUInt32BE(bodyLen, off);
  out.writeDoubleBE(d.receivedMs, body);
  out[body + 8] = addr?.length === 16 ? 6 : 4;
  out.fill(0, body + 9, body + 25);
  if (addr) out.set(addr, body + 9);
  out.writeUInt16BE(d.exporterPort, body + 25);
  out.writeUInt16BE(d.localPort, body + 27);
  out.set(d.bytes, body + BODY_FIXED);
  out.writeUInt32BE(crc32(out.subarray(body, body + bodyLen)), off + 4);
  return ENTRY_HEADER + bodyLen;
}

export type ParseOutcome =
  | { kind: 'entry'; entry: JournalEntry }
  /** Not enough bytes yet (end of the data read so far). */
  | { kind: 'short' }
  /** A length or checksum that cannot be right: a torn write or corruption. */
  | { kind: 'corrupt'; reason: string };

/** Parses the entry at `off` of `buf`, whose first byte is at journal position `base`. */
export function parseEntry(buf: Buffer, off: number, base: number): ParseOutcome {
  if (buf.length - off < ENTRY_HEADER) return { kind: 'short' };
  const bodyLen = buf.readUInt32BE(off);
  if (bodyLen < BODY_FIXED || bodyLen > BODY_FIXED + MAX_PAYLOAD) {
    return { kind: 'corrupt', reason: `entry length ${bodyLen} out of range` };
  }
  if (buf.length - off - ENTRY_HEADER < bodyLen) return { kind: 'short' };
  const body = off + ENTRY_HEADER;
  const crc = buf.readUInt32BE(off + 4);
  if (crc32(buf.subarray(body, body + bodyLen)) !== crc) {
    return { kind: 'corrupt', reason: 'checksum mismatch' };
  }
  const family = buf[body + 8];
  const exporter = family === 6 ? ipv6ToString(buf, body + 9) : ipv4ToString(buf, body + 9);
  return {
    kind: 'entry',
    entry: {
      position: base + off,
      size: ENTRY_HEADER + bodyLen,
      receivedMs: buf.readDoubleBE(body),
      exporter,
      exporterPort: buf.readUInt16BE(body + 25),
      localPort: buf.readUInt16BE(body + 27),
      // A plain Uint8Array view (not a Buffer): the datagram as it arrived.
      bytes: new Uint8Array(buf.buffer, buf.byteOffset + body + BODY_FIXED, bodyLen - BODY_FIXED),
    },
  };
}
