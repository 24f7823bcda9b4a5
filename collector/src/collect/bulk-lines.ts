// Flow records as `_bulk` lines, back to back in one buffer: for each record the action
// line `{"create":{"_id":"<id>"}}`, the document, a line break. The decode workers write
// every batch this way, and `sluice replay` its datagrams; the bulk indexer then keeps
// each line as a range of the buffer (BulkIndexer.addLines).
import {
  type CommunityIdInput,
  communityIdsAhead,
  communityIdsDone,
} from '../flow/community-id.js';
import { writeDocument } from '../flow/document.js';
import { type JsonOut, Text, writeByte, writeRaw, writeText } from '../flow/json-out.js';
import type { FlowRecord } from '../flow/record.js';

/** `<k in base 36>"}}\n`: the end of the action line of a datagram's record k. */
const ACTION_ENDS = Array.from({ length: 256 }, (_, k) => new Text(`${k.toString(36)}"}}\n`));

/**
 * The action line up to the record index, as text: its `_id` is documentId(idPrefix,
 * position, k) (collect/indexer.ts), written as JSON (the prefix is escaped if need be).
 */
function actionPrefix(idPrefix: string, position: number): string {
  return `{"create":{"_id":${JSON.stringify(`${idPrefix}-${position.toString(36)}-`).slice(0, -1)}`;
}

const ACTION_HEAD = new Text('{"create":{"_id":');
const BASE36 = Uint8Array.from('0123456789abcdefghijklmnopqrstuvwxyz', (c) => c.charCodeAt(0));
const digits = new Uint8Array(16);

/** `"<idPrefix>-` as JSON without its closing quote, for the last prefix seen. */
let prefixOf: string | undefined;
let prefixText = new Text('');

/**
 * actionPrefix written as bytes: the head and the escaped prefix as texts made once per
 * prefix (one per collector), the position's base-36 digits one by one. Building the
 * string and encoding it cost about as much as writing a document's ports and counters,
 * per datagram; sFlow datagrams carry few records each.
 */
function writeActionPrefix(out: JsonOut, idPrefix: string, position: number): void {
  if (!(Number.isSafeInteger(position) && position >= 0)) {
    writeRaw(out, actionPrefix(idPrefix, position));
    return;
  }
  if (idPrefix !== prefixOf) {
    prefixText = new Text(JSON.stringify(`${idPrefix}-`).slice(0, -1));
    prefixOf = idPrefix;
  }
  writeText(out, ACTION_HEAD);
  writeText(out, prefixText);
  let n = 0;
  let x = position;
  do {
    const q = Math.floor(x / 36);
    digits[n++] = BASE36[x - q * 36] as number;
    x = q;
  } while (x > 0);
  out.reserve(n + 1);
  const b = out.buf;
  let p = out.pos;
  while (n > 0) b[p++] = digits[--n] as number;
  b[p++] = 0x2d; // -
  out.pos = p;
}

/** Writes lines into `out` and notes where each ends. */
export class BulkLineWriter {
  /** Where line k ends (and k + 1 starts) is `offsets[k + 1]`; `offsets[0]` is 0. */
  offsets = new Uint32Array(4096);
  /** Lines written since `begin`. */
  lines = 0;

  constructor(readonly out: JsonOut) {}

  /** Starts over at the start of `out` (after `out.adopt` or `out.reset`). */
  begin(): void {
    this.lines = 0;
    this.offsets[0] = this.out.pos;
  }

  /** The lines of one datagram's records; their ids are documentId(idPrefix, position, k). */
  datagram(records: readonly FlowRecord[], idPrefix: string, position: number): void {
    // The records' Community IDs hashed together (four blocks per SIMD instruction).
    communityIdsAhead(records as readonly unknown[] as readonly CommunityIdInput[]);
    try {
      this.writeLines(records, idPrefix, position);
    } finally {
      communityIdsDone();
    }
  }

  private writeLines(records: readonly FlowRecord[], idPrefix: string, position: number): void {
    const out = this.out;
    // The action line's prefix is the same for every record of the datagram: written
    // once as text, then copied from where it was written.
    let prefixAt = -1;
    let prefixEnd = -1;
    for (let k = 0; k < records.length; k++) {
      if (prefixAt < 0) {
        prefixAt = out.pos;
        writeActionPrefix(out, idPrefix, position);
        prefixEnd = out.pos;
      } else {
        // Word by word (TypedArray copyWithin is a call into the runtime that cost more
        // than the line); the last word may take up to 3 bytes past the prefix, which the
        // action line's end overwrites.
        const n = prefixEnd - prefixAt;
        out.reserve(n + 4);
        const view = out.view;
        const p = out.pos;
        for (let i = 0; i < n; i += 4) view.setInt32(p + i, view.getInt32(prefixAt + i));
        out.pos = p + n;
      }
      const end = ACTION_ENDS[k];
      if (end !== undefined) writeText(out, end);
      else writeRaw(out, `${k.toString(36)}"}}\n`);
      writeDocument(out, records[k] as FlowRecord);
      writeByte(out, 0x0a);
      if (++this.lines >= this.offsets.length) {
        const grown = new Uint32Array(this.offsets.length * 2);
        grown.set(this.offsets);
        this.offsets = grown;
      }
      this.offsets[this.lines] = out.pos;
    }
  }

  /** A copy of the offsets of the lines since `begin` (lines + 1 of them). */
  takeOffsets(): Uint32Array {
    return this.offsets.slice(0, this.lines + 1);
  }
}
