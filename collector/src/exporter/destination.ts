import {
  encodeIpfix,
  IPFIX_FLOW_TEMPLATES,
  ipfixDataRecords,
  ipfixSize,
} from '../protocol/ipfix/encode.js';
import {
  type ExportFlow,
  recordLength,
  type SamplingInfo,
} from '../protocol/netflow/encode-flow.js';
import type { FlowTemplate, TemplateMessage } from '../protocol/netflow/encode-sets.js';
import { encodeNetflowV5, V5_MAX_RECORDS } from '../protocol/netflow/encode-v5.js';
import {
  encodeNetflowV9,
  netflowV9Size,
  V9_FLOW_TEMPLATES,
} from '../protocol/netflow/encode-v9.js';

/**
 * One export destination: turns expired flows into datagrams of its own format and keeps
 * that format's state (sequence numbers, template refresh). Sending is left to a
 * `send` function, so the datagrams can be checked without a socket.
 *
 * Sequence numbers: v5 counts the flows sent before the datagram, v9 the export packets,
 * IPFIX the data records (options data included). Templates (and the sampling options
 * template with its data) go in the first message and again after `templateRefreshMs`
 * of the export clock or `templateRefreshPackets` messages, whichever comes first.
 */

export type ExportVersion = 5 | 9 | 10;

/** A destination's format: a NetFlow/IPFIX version, or sFlow v5 packet samples. */
export type ExportFormat = ExportVersion | 'sflow';

export interface DestinationOptions {
  readonly version: ExportVersion;
  /** Exporter boot time, ms since the epoch, a whole second (uptime counts from it). */
  readonly bootMs: number;
  /** v5 engine id, v9 source id, IPFIX observation domain. */
  readonly domain: number;
  readonly sampling: SamplingInfo | undefined;
  /** Largest v9/IPFIX datagram, bytes (v5 is bounded by its 30 records). */
  readonly maxDatagramBytes: number;
  readonly templateRefreshMs: number;
  readonly templateRefreshPackets: number;
}

export const DEFAULT_DESTINATION = {
  maxDatagramBytes: 1400,
  templateRefreshMs: 60_000,
  templateRefreshPackets: 20,
} as const;

export class ExportEncoder {
  readonly options: DestinationOptions;
  private sequence = 0;
  private templatesSentMs: number | undefined;
  private messagesSinceTemplates = 0;

  constructor(opts: DestinationOptions) {
    this.options = opts;
  }

  /**
   * The datagrams carrying `flows` at export time `nowMs`. IPv6 flows are left out of
   * v5 (the count is returned in `ipv6Skipped`).
   */
  encode(
    flows: readonly ExportFlow[],
    nowMs: number,
  ): { datagrams: Uint8Array[]; ipv6Skipped: number; flows: number } {
    const v = this.options.version;
    if (v === 5) return this.encodeV5(flows, nowMs);
    return this.encodeTemplated(flows, nowMs);
  }

  private encodeV5(flows: readonly ExportFlow[], nowMs: number) {
    const v4 = flows.filter((f) => f.ipVersion === 4);
    const datagrams: Uint8Array[] = [];
    const exportMs = Math.floor(nowMs);
    const s = this.options.sampling;
    for (let i = 0; i < v4.length; i += V5_MAX_RECORDS) {
      const part = v4.slice(i, i + V5_MAX_RECORDS);
      datagrams.push(
        encodeNetflowV5(
          {
            sysUptimeMs: exportMs - this.options.bootMs,
            unixSecs: Math.floor(exportMs / 1000),
            unixNsecs: (exportMs % 1000) * 1_000_000,
            sequence: this.sequence,
            engineType: 0,
            engineId: this.options.domain & 0xff,
            // Mode 1: one packet in N, counted (deterministic); the interval has 14 bits.
            samplingMode: s ? 1 : 0,
            samplingInterval: s ? Math.min(s.interval, 0x3fff) : 0,
          },
          part,
        ),
      );
      this.sequence = (this.sequence + part.length) >>> 0;
    }
    return { datagrams, ipv6Skipped: flows.length - v4.length, flows: v4.length };
  }

  private templatesDue(nowMs: number): boolean {
    return (
      this.templatesSentMs === undefined ||
      nowMs - this.templatesSentMs >= this.options.templateRefreshMs ||
      this.messagesSinceTemplates >= this.options.templateRefreshPackets
    );
  }

  private encodeTemplated(flows: readonly ExportFlow[], nowMs: number) {
    const ipfix = this.options.version === 10;
    const set: { 4: FlowTemplate; 6: FlowTemplate } = ipfix
      ? IPFIX_FLOW_TEMPLATES
      : V9_FLOW_TEMPLATES;
    const size = ipfix ? ipfixSize : netflowV9Size;
    const max = this.options.maxDatagramBytes;
    const sampling = this.options.sampling;
    const rec4 = recordLength(set[4].fields);
    const rec6 = recordLength(set[6].fields);
    const datagrams: Uint8Array[] = [];
    let i = 0;
    while (i < flows.length) {
      const withTemplates = this.templatesDue(nowMs);
      const base: TemplateMessage = {
        templates: withTemplates ? [set[4], set[6]] : [],
        optionsTemplate: withTemplates && sampling !== undefined,
        sampling: withTemplates ? sampling : undefined,
        flows: [],
      };
      const baseSize = size(base);
      // As many flows as fit (at least one): the set sizes are added up as flows are
      // taken (a set is 4 header bytes plus its records, padded to 4 bytes in v9), then
      // the message is measured once to be sure.
      let n4 = 0;
      let n6 = 0;
      let n = 0;
      while (i + n < flows.length) {
        const v6 = (flows[i + n] as ExportFlow).ipVersion === 6;
        const bytes =
          baseSize +
          setBytes(n4 + (v6 ? 0 : 1), rec4, !ipfix) +
          setBytes(n6 + (v6 ? 1 : 0), rec6, !ipfix);
        if (n > 0 && bytes > max) break;
        if (v6) n6 += 1;
        else n4 += 1;
        n += 1;
      }
      let msg: TemplateMessage = { ...base, flows: flows.slice(i, i + n) };
      while (n > 1 && size(msg) > max) {
        n -= 1;
        msg = { ...base, flows: flows.slice(i, i + n) };
      }
      datagrams.push(this.message(msg, nowMs));
      if (withTemplates) {
        this.templatesSentMs = nowMs;
        this.messagesSinceTemplates = 0;
      }
      this.messagesSinceTemplates += 1;
      i += n;
    }
    return { datagrams, ipv6Skipped: 0, flows: flows.length };
  }

  private message(m: TemplateMessage, nowMs: number): Uint8Array {
    const exportSecs = Math.floor(nowMs / 1000);
    if (this.options.version === 10) {
      const out = encodeIpfix(
        { exportSecs, sequence: this.sequence, domain: this.options.domain },
        m,
      );
      this.sequence = (this.sequence + ipfixDataRecords(m)) >>> 0;
      return out;
    }
    const out = encodeNetflowV9(
      {
        sysUptimeMs: exportSecs * 1000 - this.options.bootMs,
        unixSecs: exportSecs,
        sequence: this.sequence,
        sourceId: this.options.domain,
      },
      m,
    );
    this.sequence = (this.sequence + 1) >>> 0;
    return out;
  }
}

/** Bytes of a data set of `n` records of `rec` bytes (none when empty). */
function setBytes(n: number, rec: number, pad4: boolean): number {
  if (n === 0) return 0;
  const b = 4 + n * rec;
  return pad4 ? (b + 3) & ~3 : b;
}
