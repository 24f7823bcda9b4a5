import type { DecodeReason } from '../errors.js';
import type { FixedDataSet } from '../templates/dataset.js';
import type { TemplateStore } from '../templates/store.js';
import type { DataRecord, PacketContext } from '../templates/types.js';

/** Something in a datagram that could not be decoded; counted per exporter and reason. */
export interface DecodeIssue {
  readonly reason: DecodeReason;
  readonly message: string;
}

/** What the NetFlow/IPFIX decoders need besides the bytes. */
export interface DecodeInput {
  /** Exporter address as text (the UDP source address). */
  readonly exporter: string;
  /** Arrival time, ms since the Unix epoch. */
  readonly receivedMs: number;
  /** Template state (v9, IPFIX); shared across datagrams of all exporters. */
  readonly store: TemplateStore;
  /**
   * Give data sets of fixed-length templates unread, in `ExportResult.sets`, instead of
   * as records (FixedDataSet): for a consumer that reads them itself.
   */
  readonly deferFixedSets?: boolean;
}

/** The result of decoding one NetFlow v1/5/7/9 or IPFIX datagram. Never throws. */
export interface ExportResult {
  /** Header facts; undefined when even the header could not be read. */
  ctx: PacketContext | undefined;
  /** Data and options records, in wire order; held data decoded late comes first. */
  records: DataRecord[];
  /**
   * Data sets left unread (DecodeInput.deferFixedSets), each with its place among
   * `records`; undefined when there are none.
   */
  sets: FixedDataSet[] | undefined;
  templatesLearned: number;
  templatesWithdrawn: number;
  /** Data sets held for a template that has not arrived yet. */
  held: number;
  /** v5 header sampling (mode and interval), when the format carries it. */
  sampling: { mode: number; interval: number } | undefined;
  /**
   * How far this datagram moves the exporter's sequence number: flows (v5/v7), one
   * packet (v9), data records (IPFIX). Undefined when it cannot be known (data held).
   */
  sequenceIncrement: number | undefined;
  issues: DecodeIssue[];
}

export function emptyResult(): ExportResult {
  return {
    ctx: undefined,
    records: [],
    sets: undefined,
    templatesLearned: 0,
    templatesWithdrawn: 0,
    held: 0,
    sampling: undefined,
    sequenceIncrement: undefined,
    issues: [],
  };
}

/** The records in a result's unread sets from the `from`th on. */
export function unreadSince(res: ExportResult, from: number): number {
  const sets = res.sets;
  let n = 0;
  if (sets !== undefined)
    for (let i = from; i < sets.length; i++) n += (sets[i] as FixedDataSet).count;
  return n;
}

/** Where decodeDataSet puts a result's records: its unread sets when asked for. */
export function setsFor(input: DecodeInput, res: ExportResult): FixedDataSet[] | undefined {
  if (input.deferFixedSets !== true) return undefined;
  res.sets ??= [];
  return res.sets;
}
