// Shared types of the capture-file reader. Pure: no I/O, nothing outside protocol/.
import type { DecodeReason } from '../errors.js';

/**
 * LINKTYPE_ values (the link-layer header type stored in pcap headers and pcapng
 * Interface Description Blocks), from the registry at https://www.tcpdump.org/linktypes.html.
 * Only the ones `decodeLink` understands are named here.
 */
export const LINKTYPE = {
  /** BSD loopback: 4-byte address family in the byte order of the capturing host. */
  NULL: 0,
  ETHERNET: 1,
  /** Raw IPv4 or IPv6, version from the first nibble. */
  RAW: 101,
  /** OpenBSD loopback: 4-byte address family in network byte order. */
  LOOP: 108,
  /** Linux "cooked" capture v1 (16-byte header). */
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  /** Linux "cooked" capture v2 (20-byte header). */
  LINUX_SLL2: 276,
} as const;

/** One captured packet. `data` is a view into the bytes given to the reader (no copy). */
export interface CaptureFrame {
  /** 0-based position of the frame in the file (tshark's frame.number - 1). */
  index: number;
  /** pcapng interface id within its section; 0 for classic pcap. */
  interfaceId: number;
  /** Capture time in nanoseconds since the Unix epoch (truncated below the file's resolution). */
  timestampNs: bigint;
  /** Capture time in milliseconds since the Unix epoch (float, microsecond precision). */
  timeMs: number;
  /** LINKTYPE_ value of the frame's interface (see LINKTYPE). */
  linkType: number;
  /** The captured bytes (may be shorter than origLength when the snap length cut it). */
  data: Uint8Array;
  /** The length of the packet on the wire. */
  origLength: number;
}

/**
 * Receives frames without a frame object per packet (`CaptureStreamParser.pushTo`): the
 * frame is `buf[off, off + length)`, valid only during the call (the caller may reuse
 * `buf`), `timeMs` as in `CaptureFrame`.
 */
export interface FrameSink {
  frame(
    linkType: number,
    buf: Uint8Array,
    off: number,
    length: number,
    origLength: number,
    timeMs: number,
  ): void;
}

export type CaptureFormat = 'pcap' | 'pcapng' | 'unknown';

/** Why reading stopped early. The frames before `offset` were all delivered. */
export interface CaptureError {
  reason: DecodeReason;
  message: string;
  /** Byte offset in the file of the record or block that could not be read. */
  offset: number;
}

/** What a reader returns once it has delivered every frame it could. */
export interface CaptureEnd {
  format: CaptureFormat;
  /** Frames delivered. */
  frames: number;
  /** Bytes consumed: the offset just past the last complete record or block. */
  bytesRead: number;
  /** pcapng Section Header Blocks seen (1 for classic pcap). */
  sections: number;
  /** Interfaces seen over all sections (1 for classic pcap). */
  interfaces: number;
  /** pcapng blocks skipped because they carry no packets (statistics, name resolution...). */
  skippedBlocks: number;
  /** Set when the file ended early or is malformed; absent for a clean end. */
  error?: CaptureError;
}

export interface CaptureOptions {
  /**
   * Largest record or block accepted, in bytes (default 64 MiB). A larger length field is
   * taken as corruption: it stops the read with a `bad_length` error instead of making the
   * streaming parser buffer the rest of the file.
   */
  maxBlockBytes?: number;
}

export const DEFAULT_MAX_BLOCK_BYTES = 64 * 1024 * 1024;
