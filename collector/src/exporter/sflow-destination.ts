import { decodeLink } from '../protocol/capture/link.js';
import {
  encodeSflowV5,
  SFLOW_MAX_HEADER_BYTES,
  type SflowPacketSample,
  sflowHeaderBytes,
  sflowSampleBytes,
} from '../protocol/sflow/encode.js';

/**
 * An sFlow v5 destination: every packet the exporter's 1-in-N sampler picks becomes a
 * flow sample with the first 128 bytes of the frame (Ethernet frames as they are, other
 * link types as their IP packet), batched into datagrams of at most `maxDatagramBytes`
 * and sent when full or `maxDelayMs` after the first sample waiting. Sequence numbers:
 * datagrams and samples each count from 0 (sflow_version_5.txt).
 */
export interface SflowDestinationOptions {
  /** Exporter boot time, ms since the epoch (the agent uptime counts from it). */
  readonly bootMs: number;
  /** The agent address announced (the local address of the socket). */
  readonly agentAddress: string;
  readonly subAgentId: number;
  /** 1-in-N: N (1 = every packet). */
  readonly samplingRate: number;
  readonly maxDatagramBytes: number;
  readonly maxDelayMs: number;
}

const LINKTYPE_ETHERNET = 1;
/** sFlow header_protocol values. */
const HEADER_ETHERNET = 1;
const HEADER_IPV4 = 11;
const HEADER_IPV6 = 12;

export class SflowEncoder {
  private pending: SflowPacketSample[] = [];
  private pendingBytes: number;
  private readonly headerBytes: number;
  private firstPendingMs = 0;
  private datagramSequence = 0;
  private sampleSequence = 0;

  constructor(readonly options: SflowDestinationOptions) {
    this.headerBytes = sflowHeaderBytes(options.agentAddress);
    this.pendingBytes = this.headerBytes;
  }

  /**
   * Takes one sampled frame (`buf[off, off + length)`, `origLength` on the wire) seen at
   * `nowMs`, when `pool` packets had been seen; returns a datagram if one is complete.
   */
  sample(
    linkType: number,
    buf: Uint8Array,
    off: number,
    length: number,
    origLength: number,
    input: number,
    output: number,
    pool: number,
    nowMs: number,
  ): Uint8Array | undefined {
    let headerProtocol = HEADER_ETHERNET;
    let frame = buf.subarray(off, off + length);
    let frameLength = origLength;
    if (linkType !== LINKTYPE_ETHERNET) {
      const link = decodeLink(linkType, frame);
      if (!link.ok) return undefined;
      headerProtocol = link.network === 'ipv4' ? HEADER_IPV4 : HEADER_IPV6;
      frameLength = origLength - (length - link.payload.length);
      frame = link.payload;
    }
    // A copy: the frame's buffer is reused by the capture reader.
    const header = frame.slice(0, Math.min(frame.length, SFLOW_MAX_HEADER_BYTES));
    const size = sflowSampleBytes(header.length);
    let out: Uint8Array | undefined;
    if (this.pending.length > 0 && this.pendingBytes + size > this.options.maxDatagramBytes)
      out = this.take(nowMs);
    if (this.pending.length === 0) this.firstPendingMs = nowMs;
    this.pending.push({
      sequence: this.sampleSequence,
      sourceIndex: input,
      samplingRate: this.options.samplingRate,
      samplePool: pool,
      drops: 0,
      input,
      output,
      headerProtocol,
      frameLength,
      stripped: 0,
      header,
    });
    this.sampleSequence = (this.sampleSequence + 1) >>> 0;
    this.pendingBytes += size;
    return out;
  }

  /** The waiting samples as a datagram if they are due at `nowMs` (or `force`d). */
  flush(nowMs: number, force: boolean): Uint8Array | undefined {
    if (this.pending.length === 0) return undefined;
    if (!force && nowMs - this.firstPendingMs < this.options.maxDelayMs) return undefined;
    return this.take(nowMs);
  }

  get waiting(): number {
    return this.pending.length;
  }

  private take(nowMs: number): Uint8Array {
    const out = encodeSflowV5(
      {
        agentAddress: this.options.agentAddress,
        subAgentId: this.options.subAgentId,
        sequence: this.datagramSequence,
        uptimeMs: Math.floor(nowMs) - this.options.bootMs,
      },
      this.pending,
    );
    this.datagramSequence = (this.datagramSequence + 1) >>> 0;
    this.pending = [];
    this.pendingBytes = this.headerBytes;
    return out;
  }
}
