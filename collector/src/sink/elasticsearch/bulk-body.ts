/**
 * The `_bulk` request body as bytes. Every document is held as its whole NDJSON pair, the
 * line: `{"create":{"_id":<id as JSON>}}\n`, the document's UTF-8 JSON, a line break. The
 * decode workers write lines like that for every record, back to back in one buffer per
 * batch, so a request body is a few views of those buffers: no string, no object, no
 * view and no copy per document on the way. Documents given one at a time (replay,
 * library use) are rendered into a line of their own when added.
 */

const ACTION_START = Buffer.from('{"create":{"_id":');
const ACTION_END = Buffer.from('}}\n');
const LF = 0x0a;
const CR = 0x0d;

/** One document's line: bytes [start, end) of `buf` (a batch's buffer, or its own). */
export interface BodyLine {
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;
}

/** True when the bytes hold a raw line break (it would split the NDJSON line). */
export function hasLineBreak(source: Uint8Array): boolean {
  return source.indexOf(LF) !== -1 || source.indexOf(CR) !== -1;
}

/** The UTF-8 bytes of a document given as text (a view, not a copy, when already bytes). */
export function asBytes(source: Uint8Array | string): Uint8Array {
  return typeof source === 'string' ? Buffer.from(source, 'utf8') : source;
}

/** A document's text, decoded from its bytes (only where text is needed: dead letters). */
export function sourceText(source: Uint8Array): string {
  return Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
}

/** The line of one document: action with `idJson` (`JSON.stringify(id)`), document, `\n`. */
export function renderLine(idJson: string, source: Uint8Array): Buffer {
  const idBytes = Buffer.byteLength(idJson);
  const line = Buffer.allocUnsafe(
    ACTION_START.length + idBytes + ACTION_END.length + source.byteLength + 1,
  );
  let off = ACTION_START.copy(line, 0);
  off += line.write(idJson, off, 'utf8');
  off += ACTION_END.copy(line, off);
  line.set(source, off);
  line[line.length - 1] = LF;
  return line;
}

/**
 * The `_id` and the document bytes of a line (for dead letters): the action line is
 * everything up to the first line break, the document what follows, less the final line
 * break.
 */
export function lineParts(line: BodyLine): { id: string; source: Uint8Array } {
  const bytes = line.buf.subarray(line.start, line.end);
  const actionEnd = bytes.indexOf(LF);
  let id = '';
  try {
    const action = JSON.parse(sourceText(bytes.subarray(0, actionEnd))) as {
      create?: { _id?: unknown };
    };
    id = String(action.create?._id ?? '');
  } catch {
    // Not ours to fail on: the dead letter then says so with an empty id.
  }
  // The last byte is the line break, unless the line is malformed (then kept whole).
  const end = bytes.length > 0 && bytes[bytes.length - 1] === LF ? bytes.length - 1 : bytes.length;
  return { id, source: bytes.subarray(actionEnd + 1, end) };
}

/**
 * The body of one `_bulk` request holding `lines`, in order, as views of the buffers the
 * lines are in (no copy): lines that follow each other in the same buffer (a decode
 * batch) are one view. Why views: a copied body is a second copy of up to `flushBytes`
 * per request in flight (4 x 5 MiB by default) on top of the lines it copies, and the
 * sink holds the lines until they are indexed anyway.
 */
export function bulkBodyParts(lines: readonly BodyLine[]): { parts: Buffer[]; bytes: number } {
  const parts: Buffer[] = [];
  let bytes = 0;
  let i = 0;
  while (i < lines.length) {
    const first = lines[i] as BodyLine;
    let end = first.end;
    i++;
    for (; i < lines.length; i++) {
      const next = lines[i] as BodyLine;
      if (next.buf !== first.buf || next.start !== end) break;
      end = next.end;
    }
    const b = first.buf;
    parts.push(Buffer.from(b.buffer, b.byteOffset + first.start, end - first.start));
    bytes += end - first.start;
  }
  return { parts, bytes };
}
