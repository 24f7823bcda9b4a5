/**
 * The `_bulk` request body as bytes: per document the action line
 * `{"create":{"_id":<id as JSON>}}\n`, the document's UTF-8 JSON and a line break, copied
 * into one Buffer of exactly the right size. Documents arrive as bytes from the decode
 * workers and leave as bytes: no string per document, no join, no second UTF-8 encoding
 * by the HTTP client.
 */

const ACTION_START = Buffer.from('{"create":{"_id":');
const ACTION_END = Buffer.from('}}\n');
const LF = 0x0a;
const CR = 0x0d;

/** One document as the body needs it. */
export interface BodyDocument {
  /** The `_id` as JSON text (`JSON.stringify(id)`). */
  readonly idJson: string;
  /** The document's UTF-8 JSON bytes, no line break in them. */
  readonly source: Uint8Array;
  /** Its bytes in the body: {@link bodyBytes}. */
  readonly bytes: number;
}

/** Bytes a document takes in the body: action line, document and line break. */
export function bodyBytes(idJson: string, source: Uint8Array): number {
  return (
    ACTION_START.length +
    Buffer.byteLength(idJson) +
    ACTION_END.length +
    source.byteLength +
    1 /* \n */
  );
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

/**
 * The body of one `_bulk` request with `create` actions for `docs`, in order: written into
 * `into` (a view of its start is returned) when it is large enough, else into a new Buffer.
 */
export function buildBulkBody(docs: readonly BodyDocument[], into?: Buffer): Buffer {
  let total = 0;
  for (const d of docs) total += d.bytes;
  const body =
    into !== undefined && into.length >= total
      ? into.subarray(0, total)
      : Buffer.allocUnsafe(total);
  let off = 0;
  for (const d of docs) {
    off += ACTION_START.copy(body, off);
    off += body.write(d.idJson, off, 'utf8');
    off += ACTION_END.copy(body, off);
    body.set(d.source, off);
    off += d.source.byteLength;
    body[off++] = LF;
  }
  if (off !== total) throw new Error(`bulk body: wrote ${off} bytes of ${total}`);
  return body;
}
