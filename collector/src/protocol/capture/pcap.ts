// Classic libpcap capture files.
//
// Layout from draft-ietf-opsawg-pcap ("PCAP Capture File Format"): a 24-byte file header
// (magic, version 2.4, two reserved words, snap length, link type with FCS information in
// its upper bits) then records of a 16-byte header (seconds, microseconds or nanoseconds,
// captured length, original length) and the captured bytes. The magic 0xA1B2C3D4 means
// microsecond timestamps, 0xA1B23C4D nanoseconds; read in the other byte order it says the
// file was written by a host of the other endianness. 0xA1B2CD34 is the "modified" pcap of
// Alexey Kuznetzov's patches (editcap -F modpcap), whose record header has 8 more bytes
// (interface index, protocol, packet type, padding) — a fact taken from Wireshark's file
// type list; those bytes are skipped.
import { type FormatReader, fail, need, type Step, ViewCache } from './step.js';
import type { FrameSink } from './types.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

const FILE_HEADER = 24;

export interface PcapMagic {
  littleEndian: boolean;
  nanoseconds: boolean;
  /** Record headers are 24 bytes instead of 16. */
  modified: boolean;
}

/** Recognises a classic pcap magic at `off` (needs 4 bytes), in either byte order. */
export function pcapMagic(buf: Uint8Array, off = 0): PcapMagic | undefined {
  if (buf.length - off < 4) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset + off, 4);
  for (const littleEndian of [false, true]) {
    const m = v.getUint32(0, littleEndian);
    if (m === PCAP_MAGIC_MICRO) return { littleEndian, nanoseconds: false, modified: false };
    if (m === PCAP_MAGIC_NANO) return { littleEndian, nanoseconds: true, modified: false };
    if (m === PCAP_MAGIC_MODIFIED) return { littleEndian, nanoseconds: false, modified: true };
  }
  return undefined;
}

export class PcapReader implements FormatReader {
  readonly sections = 1;
  readonly interfaces = 1;
  readonly skippedBlocks = 0;
  /** LINKTYPE_ value from the file header (lower 16 bits of the link type field). */
  linkType = -1;
  snapLength = 0;
  versionMajor = 0;
  versionMinor = 0;
  private headerRead = false;
  private readonly le: boolean;
  private readonly recordHeader: number;
  private readonly fracToNs: number;
  private readonly views = new ViewCache();

  constructor(
    readonly magic: PcapMagic,
    private readonly maxBlockBytes: number,
  ) {
    this.le = magic.littleEndian;
    this.recordHeader = magic.modified ? 24 : 16;
    this.fracToNs = magic.nanoseconds ? 1 : 1000;
  }

  step(buf: Uint8Array, off: number, fileOffset: number, index: number): Step {
    const avail = buf.length - off;
    const v = this.views.of(buf);
    if (!this.headerRead) {
      if (avail < FILE_HEADER) return need(FILE_HEADER, 'pcap file header');
      this.versionMajor = v.getUint16(off + 4, this.le);
      this.versionMinor = v.getUint16(off + 6, this.le);
      if (this.versionMajor !== 2) {
        return fail(
          'unknown_version',
          `pcap version ${this.versionMajor}.${this.versionMinor} is not supported (2.x is)`,
          fileOffset + 4,
        );
      }
      this.snapLength = v.getUint32(off + 16, this.le);
      // Lower 16 bits: the link type; upper bits: FCS length information (ignored: the IP
      // layer's own length marks where a packet ends, an FCS after it is never read).
      this.linkType = v.getUint32(off + 20, this.le) & 0xffff;
      this.headerRead = true;
      return { kind: 'skip', size: FILE_HEADER };
    }
    const hl = this.recordHeader;
    if (avail < hl) return need(hl, 'pcap record header');
    const sec = v.getUint32(off, this.le);
    const frac = v.getUint32(off + 4, this.le);
    const capLen = v.getUint32(off + 8, this.le);
    const origLen = v.getUint32(off + 12, this.le);
    if (capLen > this.maxBlockBytes) {
      return fail(
        'bad_length',
        `pcap record ${index + 1} claims ${capLen} captured bytes, more than the ${this.maxBlockBytes}-byte limit`,
        fileOffset,
      );
    }
    const size = hl + capLen;
    if (avail < size) return need(size, `pcap record ${index + 1}`);
    const fracNs = frac * this.fracToNs;
    const timestampNs = BigInt(sec) * 1_000_000_000n + BigInt(fracNs);
    return {
      kind: 'frame',
      size,
      frame: {
        index,
        interfaceId: 0,
        timestampNs,
        // Whole microseconds / 1000, exactly as nsToMs computes it (all below 2^53).
        timeMs: (sec * 1e6 + Math.floor(fracNs / 1000)) / 1000,
        linkType: this.linkType,
        data: buf.subarray(off + hl, off + size),
        origLength: origLen,
      },
    };
  }

  /**
   * The bulk path of `step` for a reader past its file header: hands every complete,
   * valid record from `off` on to `sink` without allocating, and returns the offset of
   * the first record it did not take (incomplete, or too large: `step` then says why).
   * `scanned` counts the frames delivered by the last call.
   */
  scan(buf: Uint8Array, off: number, sink: FrameSink): number {
    this.scanned = 0;
    if (!this.headerRead) return off;
    const end = buf.length;
    const hl = this.recordHeader;
    const max = this.maxBlockBytes;
    const nano = this.fracToNs === 1;
    const le = this.le;
    const linkType = this.linkType;
    let pos = off;
    let n = 0;
    while (end - pos >= hl) {
      const sec = le ? u32le(buf, pos) : u32be(buf, pos);
      const frac = le ? u32le(buf, pos + 4) : u32be(buf, pos + 4);
      const capLen = le ? u32le(buf, pos + 8) : u32be(buf, pos + 8);
      const origLen = le ? u32le(buf, pos + 12) : u32be(buf, pos + 12);
      if (capLen > max || end - pos - hl < capLen) break;
      // The same value as `step` computes (whole microseconds / 1000).
      const us = nano ? Math.floor(frac / 1000) : frac;
      sink.frame(linkType, buf, pos + hl, capLen, origLen, (sec * 1e6 + us) / 1000);
      pos += hl + capLen;
      n += 1;
    }
    this.scanned = n;
    return pos;
  }

  /** Frames delivered by the last `scan`. */
  scanned = 0;
}

function u32le(b: Uint8Array, o: number): number {
  return (
    ((b[o] as number) |
      ((b[o + 1] as number) << 8) |
      ((b[o + 2] as number) << 16) |
      ((b[o + 3] as number) << 24)) >>>
    0
  );
}

function u32be(b: Uint8Array, o: number): number {
  return (
    (((b[o] as number) << 24) |
      ((b[o + 1] as number) << 16) |
      ((b[o + 2] as number) << 8) |
      (b[o + 3] as number)) >>>
    0
  );
}
