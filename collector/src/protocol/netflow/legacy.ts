import { DecodeError } from '../errors.js';
import { type ElementInfo, elementFor } from '../ipfix/registry/index.js';
import { Reader } from '../reader.js';
import { DecodedRecord } from '../templates/decoded-record.js';
import type { DataRecord, FieldValue, PacketContext, RecordLayout } from '../templates/types.js';
import { type DecodeInput, type ExportResult, emptyResult } from './result.js';

/**
 * NetFlow v1, v5 and v7: fixed layouts (Cisco's NetFlow export datagram formats).
 * Their fields are mapped to the IANA elements IPFIX inherited from them, so one
 * document mapping serves every format (Elastic's NetFlow integration does the same).
 */

/** How a fixed-layout field is read: an IPv4 address (as its number) or an unsigned integer. */
export type FixedKind = 'ip' | 'u8' | 'u16' | 'u32';

/** One field of a fixed layout: where it lies in a record, how it is read, which element. */
export interface FixedSlot {
  readonly offset: number;
  readonly kind: FixedKind;
  readonly info: ElementInfo;
}

const ie = (id: number) => elementFor(0, id);

/** v7's router_sc (the router a Catalyst shortcut bypassed) has no IANA element. */
const ROUTER_SC: ElementInfo = {
  enterprise: 0,
  id: 0,
  name: 'routerSc',
  field: 'router_sc',
  type: 'ipv4Address',
};

// Offsets within a record. Element ids: 8 sourceIPv4Address, 12 destinationIPv4Address,
// 15 ipNextHopIPv4Address, 10 ingressInterface, 14 egressInterface, 2 packetDeltaCount,
// 1 octetDeltaCount, 22 flowStartSysUpTime, 21 flowEndSysUpTime, 7/11 ports,
// 4 protocolIdentifier, 5 ipClassOfService, 6 tcpControlBits, 16/17 BGP AS,
// 9/13 prefix lengths.
const COMMON: readonly FixedSlot[] = [
  { offset: 0, kind: 'ip', info: ie(8) },
  { offset: 4, kind: 'ip', info: ie(12) },
  { offset: 8, kind: 'ip', info: ie(15) },
  { offset: 12, kind: 'u16', info: ie(10) },
  { offset: 14, kind: 'u16', info: ie(14) },
  { offset: 16, kind: 'u32', info: ie(2) },
  { offset: 20, kind: 'u32', info: ie(1) },
  { offset: 24, kind: 'u32', info: ie(22) },
  { offset: 28, kind: 'u32', info: ie(21) },
  { offset: 32, kind: 'u16', info: ie(7) },
  { offset: 34, kind: 'u16', info: ie(11) },
];

const V1_RECORD: readonly FixedSlot[] = [
  ...COMMON,
  // 36: pad (2 bytes)
  { offset: 38, kind: 'u8', info: ie(4) },
  { offset: 39, kind: 'u8', info: ie(5) },
  { offset: 40, kind: 'u8', info: ie(6) },
  // 41..47: padding and reserved
];

const V5_RECORD: readonly FixedSlot[] = [
  ...COMMON,
  // 36: pad (1 byte)
  { offset: 37, kind: 'u8', info: ie(6) },
  { offset: 38, kind: 'u8', info: ie(4) },
  { offset: 39, kind: 'u8', info: ie(5) },
  { offset: 40, kind: 'u16', info: ie(16) },
  { offset: 42, kind: 'u16', info: ie(17) },
  { offset: 44, kind: 'u8', info: ie(9) },
  { offset: 45, kind: 'u8', info: ie(13) },
  // 46: pad (2 bytes)
];

const V7_RECORD: readonly FixedSlot[] = [
  ...V5_RECORD,
  // 46: flags2 (which fields are valid in a Catalyst shortcut), 48: router_sc
  { offset: 48, kind: 'ip', info: ROUTER_SC },
];

/** Reads `count` records starting at `start`, `record` bytes apart, into `out`. */
export type RecordsReader = (
  buf: Uint8Array,
  view: DataView,
  start: number,
  count: number,
  ctx: PacketContext,
  out: DataRecord[],
) => void;

/** A NetFlow v1, v5 or v7 record format. */
export interface FixedLayout {
  readonly version: 1 | 5 | 7;
  /** Bytes of the datagram header; the records follow it. */
  readonly header: number;
  /** Bytes of one record. */
  readonly record: number;
  readonly slots: readonly FixedSlot[];
  /** The layout every record of this format carries (one object, found by identity). */
  readonly shared: RecordLayout;
  readonly read: RecordsReader;
}

/**
 * Generated code's read of a slot whose first byte is at `at` (an expression), with the
 * datagram as `buf` and a DataView over it as `view`.
 */
export function slotExpression(kind: FixedKind, at: string): string {
  switch (kind) {
    case 'ip': // the address as its number: RecordLayout.ipv4
      return `view.getUint32(${at})`;
    case 'u8':
      return `buf[${at}]`;
    case 'u16':
      return `view.getUint16(${at})`;
    case 'u32':
      return `view.getUint32(${at})`;
  }
}

/**
 * The record reader of a fixed layout, generated once: every field at its offset read
 * by straight-line code and the record's values built as one array literal (no loop
 * over the slots, no switch per field). Addresses stay numbers (RecordLayout.ipv4).
 */
function recordsReader(
  slots: readonly FixedSlot[],
  record: number,
  shared: RecordLayout,
): RecordsReader {
  const values = slots.map((s) => slotExpression(s.kind, `base + ${s.offset}`));
  const code = `
    return function readRecords(buf, view, start, count, ctx, out) {
      for (let i = 0, base = start; i < count; i++, base += ${record}) {
        out.push(new DecodedRecord(ctx, 0, false, layout, [
          ${values.join(',\n          ')}
        ]));
      }
    };`;
  try {
    const factory = new Function('layout', 'DecodedRecord', code) as (
      layout: RecordLayout,
      decodedRecord: typeof DecodedRecord,
    ) => RecordsReader;
    return factory(shared, DecodedRecord);
  } catch {
    // Code generation disallowed (node --disallow-code-generation-from-strings): a loop.
    return (buf, view, start, count, ctx, out) => {
      for (let i = 0, base = start; i < count; i++, base += record) {
        const values: FieldValue[] = new Array(slots.length);
        for (let j = 0; j < slots.length; j++) {
          const s = slots[j] as FixedSlot;
          values[j] = readSlot(buf, view, base + s.offset, s.kind);
        }
        out.push(new DecodedRecord(ctx, 0, false, shared, values));
      }
    };
  }
}

/** A slot's value; an address as its number (RecordLayout.ipv4). */
function readSlot(buf: Uint8Array, view: DataView, off: number, kind: FixedKind): FieldValue {
  switch (kind) {
    case 'ip':
    case 'u32':
      return view.getUint32(off);
    case 'u8':
      return buf[off] as number;
    case 'u16':
      return view.getUint16(off);
  }
}

function layout(
  version: 1 | 5 | 7,
  header: number,
  record: number,
  slots: readonly FixedSlot[],
): FixedLayout {
  const shared: RecordLayout = {
    infos: slots.map((s) => s.info),
    ipv4: Uint8Array.from(slots, (s) => (s.kind === 'ip' ? 1 : 0)),
  };
  return { version, header, record, slots, shared, read: recordsReader(slots, record, shared) };
}

const LAYOUTS: Record<1 | 5 | 7, FixedLayout> = {
  1: layout(1, 16, 48, V1_RECORD),
  5: layout(5, 24, 48, V5_RECORD),
  7: layout(7, 24, 52, V7_RECORD),
};

/**
 * A NetFlow v1, v5 or v7 datagram whose header is read: `res` holds everything but the
 * records, which are the first `count` records of `layout` after the header (those the
 * header announces, as far as they fit). `layout` is undefined when the header could
 * not be read (then `res.issues` says why).
 */
export interface LegacyPacket {
  readonly res: ExportResult;
  readonly layout: FixedLayout | undefined;
  readonly count: number;
  /** A DataView over the datagram's bytes. */
  readonly view: DataView | undefined;
}

/** Reads a NetFlow v1, v5 or v7 header, leaving the records to be read. Never throws. */
export function readNetflowLegacyHeader(buf: Uint8Array, input: DecodeInput): LegacyPacket {
  const res = emptyResult();
  try {
    const r = new Reader(buf);
    r.need(4, 'NetFlow header');
    const version = r.u16();
    if (version !== 1 && version !== 5 && version !== 7) {
      throw new DecodeError('unknown_version', `not NetFlow v1/v5/v7: version ${version}`);
    }
    const layout = LAYOUTS[version];
    r.need(layout.header - 2, `NetFlow v${version} header`);
    const count = r.u16();
    const sysUptimeMs = r.u32();
    const unixSecs = r.u32();
    const unixNsecs = r.u32();
    let sequence = 0;
    let domain = 0;
    if (version !== 1) {
      sequence = r.u32();
      if (version === 5) {
        const engineType = r.u8();
        const engineId = r.u8();
        domain = (engineType << 8) | engineId;
        const sampling = r.u16();
        // Top 2 bits: sampling mode; low 14 bits: interval.
        res.sampling = { mode: sampling >>> 14, interval: sampling & 0x3fff };
      } else {
        r.skip(4, 'v7 reserved');
      }
    }
    res.ctx = {
      version,
      exporter: input.exporter,
      domain,
      sequence,
      exportTimeMs: unixSecs * 1000 + Math.floor(unixNsecs / 1_000_000),
      sysUptimeMs,
      receivedMs: input.receivedMs,
    };
    const fit = Math.floor(r.remaining / layout.record);
    let n = count;
    if (count > fit) {
      res.issues.push({
        reason: 'count_overflow',
        message: `v${version} header says ${count} records, ${fit} fit in ${buf.length} bytes`,
      });
      n = fit;
    }
    // v5/v7 sequence numbers count flows; v1 has none.
    res.sequenceIncrement = version === 1 ? undefined : count;
    return { res, layout, count: n, view: r.view };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    res.issues.push({ reason: err.reason, message: err.message });
  }
  return { res, layout: undefined, count: 0, view: undefined };
}

/** Reads the records of a packet whose header is read into its `res.records`. */
export function readNetflowLegacyRecords(buf: Uint8Array, p: LegacyPacket): void {
  const { res, layout, view } = p;
  if (layout === undefined || view === undefined || res.ctx === undefined) return;
  layout.read(buf, view, layout.header, p.count, res.ctx, res.records);
}

/** Decodes a NetFlow v1, v5 or v7 datagram. Never throws. */
export function decodeNetflowLegacy(buf: Uint8Array, input: DecodeInput): ExportResult {
  const p = readNetflowLegacyHeader(buf, input);
  readNetflowLegacyRecords(buf, p);
  return p.res;
}
