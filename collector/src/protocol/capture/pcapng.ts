// pcapng capture files.
//
// Facts from draft-ietf-opsawg-pcapng ("PCAP Now Generic (pcapng) Capture File Format"):
// every block is type (4) + total length (4) + body + total length again (4), the length a
// multiple of 4 and at least 12. A Section Header Block (0x0A0D0D0A, a palindrome) starts
// each section; its byte-order magic 0x1A2B3C4D tells the byte order of everything in the
// section. Interface Description Blocks (1) are numbered from 0 within their section and
// carry the link type, the snap length and options, among them if_tsresol (code 9: one
// byte, high bit clear = 10^-n s per unit, set = 2^-n) and if_tsoffset (code 14: signed
// 64-bit seconds added to every timestamp). Enhanced Packet Blocks (6) and the obsolete
// Packet Blocks (2) carry an interface id and a 64-bit timestamp in units of the
// interface's resolution (default 10^-6 s); Simple Packet Blocks (3) belong to interface 0
// and carry no timestamp. Other blocks (name resolution, statistics, secrets, custom)
// are skipped.
import { type FormatReader, fail, need, type Step, ViewCache } from './step.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** True when `buf[off..]` starts with a Section Header Block type (needs 4 bytes). */
export function isPcapng(buf: Uint8Array, off = 0): boolean {
  return (
    buf.length - off >= 4 &&
    buf[off] === 0x0a &&
    buf[off + 1] === 0x0d &&
    buf[off + 2] === 0x0d &&
    buf[off + 3] === 0x0a
  );
}

/** An interface of the current section, with its timestamp conversion to nanoseconds. */
export interface PcapngInterface {
  linkType: number;
  snapLength: number;
  /** Raw if_tsresol byte (6 when absent). */
  tsresol: number;
  /** if_tsoffset in seconds (0 when absent). */
  tsoffset: bigint;
  /** ns = units * mul / div + offsetNs */
  mul: bigint;
  div: bigint;
  offsetNs: bigint;
}

function tsConversion(tsresol: number): { mul: bigint; div: bigint } {
  const exp = tsresol & 0x7f;
  if (tsresol & 0x80) return { mul: 1_000_000_000n, div: 1n << BigInt(exp) };
  if (exp <= 9) return { mul: 10n ** BigInt(9 - exp), div: 1n };
  return { mul: 1n, div: 10n ** BigInt(exp - 9) };
}

function blockName(type: number): string {
  switch (type) {
    case PCAPNG_SHB:
      return 'Section Header Block';
    case BLOCK_IDB:
      return 'Interface Description Block';
    case BLOCK_PB:
      return 'Packet Block';
    case BLOCK_SPB:
      return 'Simple Packet Block';
    case BLOCK_EPB:
      return 'Enhanced Packet Block';
    default:
      return `block of type 0x${type.toString(16).padStart(8, '0')}`;
  }
}

export class PcapngReader implements FormatReader {
  sections = 0;
  interfaces = 0;
  skippedBlocks = 0;
  /** Interfaces of the current section, by id. */
  current: PcapngInterface[] = [];
  private le = false;
  private readonly views = new ViewCache();

  constructor(private readonly maxBlockBytes: number) {}

  step(buf: Uint8Array, off: number, fileOffset: number, index: number): Step {
    const avail = buf.length - off;
    // 12 bytes: type, length and (for a Section Header Block) the byte-order magic. No
    // block is shorter, so asking for them never over-reads.
    if (avail < 12) return need(12, 'pcapng block header');
    const v = this.views.of(buf);
    let le = this.le;
    let type = v.getUint32(off, le);
    if (type === PCAPNG_SHB) {
      const bom = v.getUint32(off + 8, false);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else if (bom === 0x4d3c2b1a) le = true;
      else {
        return fail(
          'unknown_format',
          `Section Header Block with bad byte-order magic 0x${bom.toString(16).padStart(8, '0')}`,
          fileOffset + 8,
        );
      }
    } else if (this.sections === 0) {
      return fail('unknown_format', 'pcapng file does not start with a Section Header Block', 0);
    }
    type = v.getUint32(off, le);
    const len = v.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || (type === PCAPNG_SHB && len < 28)) {
      return fail(
        'bad_length',
        `${blockName(type)} with invalid total length ${len}`,
        fileOffset + 4,
      );
    }
    if (len > this.maxBlockBytes) {
      return fail(
        'bad_length',
        `${blockName(type)} of ${len} bytes exceeds the ${this.maxBlockBytes}-byte limit`,
        fileOffset + 4,
      );
    }
    if (avail < len) return need(len, blockName(type));
    const trailer = v.getUint32(off + len - 4, le);
    if (trailer !== len) {
      return fail(
        'bad_length',
        `${blockName(type)}: total length ${len} at its start but ${trailer} at its end`,
        fileOffset + len - 4,
      );
    }
    const body = off + 8;
    const bodyLen = len - 12;
    switch (type) {
      case PCAPNG_SHB: {
        const major = v.getUint16(body + 4, le);
        const minor = v.getUint16(body + 6, le);
        if (major !== 1) {
          return fail(
            'unknown_version',
            `pcapng section version ${major}.${minor} is not supported (1.x is)`,
            fileOffset + 12,
          );
        }
        this.le = le;
        this.sections++;
        this.current = [];
        return { kind: 'skip', size: len };
      }
      case BLOCK_IDB: {
        if (bodyLen < 8) return fail('bad_length', `${blockName(type)} too short`, fileOffset);
        const iface = this.readInterface(v, body, bodyLen);
        this.current.push(iface);
        this.interfaces++;
        return { kind: 'skip', size: len };
      }
      case BLOCK_EPB:
      case BLOCK_PB: {
        if (bodyLen < 20) return fail('bad_length', `${blockName(type)} too short`, fileOffset);
        const ifId = type === BLOCK_EPB ? v.getUint32(body, le) : v.getUint16(body, le);
        const iface = this.current[ifId];
        if (!iface) {
          return fail(
            'bad_length',
            `${blockName(type)} of frame ${index + 1} names interface ${ifId}, the section has ${this.current.length}`,
            fileOffset + 8,
          );
        }
        const hi = v.getUint32(body + 4, le);
        const lo = v.getUint32(body + 8, le);
        const capLen = v.getUint32(body + 12, le);
        const origLen = v.getUint32(body + 16, le);
        if (capLen > bodyLen - 20) {
          return fail(
            'bad_length',
            `${blockName(type)} of frame ${index + 1}: captured length ${capLen} does not fit in a ${len}-byte block`,
            fileOffset + 20,
          );
        }
        const units = (BigInt(hi) << 32n) | BigInt(lo);
        const timestampNs = (units * iface.mul) / iface.div + iface.offsetNs;
        return {
          kind: 'frame',
          size: len,
          frame: {
            index,
            interfaceId: ifId,
            timestampNs,
            timeMs: Number(timestampNs / 1000n) / 1000,
            linkType: iface.linkType,
            data: buf.subarray(body + 20, body + 20 + capLen),
            origLength: origLen,
          },
        };
      }
      case BLOCK_SPB: {
        if (bodyLen < 4) return fail('bad_length', `${blockName(type)} too short`, fileOffset);
        const iface = this.current[0];
        if (!iface) {
          return fail(
            'bad_length',
            `${blockName(type)} of frame ${index + 1} but the section has no interface`,
            fileOffset,
          );
        }
        const origLen = v.getUint32(body, le);
        let capLen = Math.min(origLen, bodyLen - 4);
        if (iface.snapLength > 0) capLen = Math.min(capLen, iface.snapLength);
        return {
          kind: 'frame',
          size: len,
          frame: {
            index,
            interfaceId: 0,
            // No timestamp in a Simple Packet Block: the epoch, as tshark shows it.
            timestampNs: 0n,
            timeMs: 0,
            linkType: iface.linkType,
            data: buf.subarray(body + 4, body + 4 + capLen),
            origLength: origLen,
          },
        };
      }
      default:
        this.skippedBlocks++;
        return { kind: 'skip', size: len };
    }
  }

  private readInterface(v: DataView, body: number, bodyLen: number): PcapngInterface {
    const le = this.le;
    const linkType = v.getUint16(body, le);
    const snapLength = v.getUint32(body + 4, le);
    let tsresol = 6;
    let tsoffset = 0n;
    let seenResol = false;
    let seenOffset = false;
    // Options: code (2), length (2), value padded to 4. A malformed option list ends the
    // options (the interface keeps its defaults) rather than the file.
    let p = body + 8;
    const end = body + bodyLen;
    while (p + 4 <= end) {
      const code = v.getUint16(p, le);
      const olen = v.getUint16(p + 2, le);
      if (code === OPT_END) break;
      const value = p + 4;
      if (value + olen > end) break;
      if (code === OPT_IF_TSRESOL && olen === 1 && !seenResol) {
        tsresol = v.getUint8(value);
        seenResol = true;
      } else if (code === OPT_IF_TSOFFSET && olen === 8 && !seenOffset) {
        tsoffset = v.getBigInt64(value, le);
        seenOffset = true;
      }
      p = value + ((olen + 3) & ~3);
    }
    const { mul, div } = tsConversion(tsresol);
    return {
      linkType,
      snapLength,
      tsresol,
      tsoffset,
      mul,
      div,
      offsetNs: tsoffset * 1_000_000_000n,
    };
  }
}
