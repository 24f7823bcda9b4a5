// Any plain JSON value (the `sflow.*` extras of a document) written as UTF-8 bytes,
// exactly as JSON.stringify writes it with bigints as decimal strings (the document's
// replacer), without making the text first: JSON.stringify of an sFlow sample's extras
// and its UTF-8 encoding were about a quarter of an sFlow document's cost.
//
// Only plain data is walked: objects whose prototype is Object.prototype or null,
// arrays, strings, numbers, booleans, null, bigints. Anything else (a toJSON method, a
// class instance, a typed array, a boxed primitive, nesting deeper than MAX_DEPTH, which
// also catches cycles) raises UnusualValue, and the caller writes the value the old way.
import { jsonString, UnusualValue } from './fast-json.js';
import {
  type JsonOut,
  Text,
  writeByte,
  writeNumber,
  writeRaw,
  writeString,
  writeText,
} from './json-out.js';

const UNUSUAL = new UnusualValue('value needs JSON.stringify');

/** Deeper than any structure a decoder makes; a cycle ends here too. */
const MAX_DEPTH = 32;

const TRUE = new Text('true');
const FALSE = new Text('false');
const NULL = new Text('null');

/** A member's `"key":` text, first in its object and after another. */
interface KeyText {
  readonly first: Text;
  readonly next: Text;
}

// Extras use a few dozen distinct keys: each is encoded once. Bounded in case a raw
// structure ever brings keys of its own (past the bound, keys are encoded per use).
const KEY_LIMIT = 4096;
const keyTexts = new Map<string, KeyText>();

function keyText(k: string): KeyText {
  let t = keyTexts.get(k);
  if (t === undefined) {
    const s = jsonString(k);
    t = { first: new Text(`${s}:`), next: new Text(`,${s}:`) };
    if (keyTexts.size < KEY_LIMIT) keyTexts.set(k, t);
  }
  return t;
}

/**
 * Writes `v` as JSON.stringify would (bigints as their decimal digits in quotes); `v`
 * must be a value JSON writes (not undefined, a function or a symbol).
 */
export function writeJsonValue(o: JsonOut, v: unknown, depth = 0): void {
  switch (typeof v) {
    case 'string':
      writeString(o, v);
      return;
    case 'number':
      writeNumber(o, v);
      return;
    case 'boolean':
      writeText(o, v ? TRUE : FALSE);
      return;
    case 'bigint':
      if ('toJSON' in BigInt.prototype) throw UNUSUAL;
      writeRaw(o, `"${v}"`);
      return;
    case 'object':
      if (v === null) writeText(o, NULL);
      else writeObject(o, v, depth);
      return;
    default:
      // undefined, functions, symbols: callers leave these out or write null.
      throw UNUSUAL;
  }
}

/** Whether JSON.stringify leaves an object member with this value out. */
function omitted(v: unknown): boolean {
  const t = typeof v;
  return t === 'undefined' || t === 'function' || t === 'symbol';
}

function writeObject(o: JsonOut, v: object, depth: number): void {
  if (depth > MAX_DEPTH || 'toJSON' in v) throw UNUSUAL;
  const proto: unknown = Object.getPrototypeOf(v);
  if (Array.isArray(v)) {
    if (proto !== Array.prototype) throw UNUSUAL;
    writeByte(o, 0x5b); // [
    const n = v.length;
    const d = depth + 1;
    for (let i = 0; i < n; i++) {
      if (i > 0) writeByte(o, 0x2c);
      const x: unknown = v[i];
      if (omitted(x)) writeText(o, NULL);
      else writeJsonValue(o, x, d);
    }
    writeByte(o, 0x5d); // ]
    return;
  }
  if (proto !== Object.prototype && proto !== null) throw UNUSUAL;
  writeJsonMembers(o, v, depth, writeJsonValue);
}

/** Writes a member's value (never one JSON leaves out) at a nesting depth. */
export type MemberWriter = (o: JsonOut, v: unknown, depth: number) => void;

/**
 * `{...}` of an object's own enumerable members as JSON.stringify writes them, each
 * value by `write`; the caller has checked that the object is one JSON writes this way.
 */
export function writeJsonMembers(o: JsonOut, v: object, depth: number, write: MemberWriter): void {
  if (depth > MAX_DEPTH) throw UNUSUAL;
  const rec = v as Record<string, unknown>;
  writeByte(o, 0x7b); // {
  let first = true;
  // Object.keys has JSON.stringify's order: integer keys ascending, then insertion order.
  for (const k of Object.keys(rec)) {
    const x = rec[k];
    if (omitted(x)) continue;
    const t = keyText(k);
    writeText(o, first ? t.first : t.next);
    write(o, x, depth + 1);
    first = false;
  }
  writeByte(o, 0x7d); // }
}
