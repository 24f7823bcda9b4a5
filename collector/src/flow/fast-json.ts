// JSON text pieces written by hand, each equal to what `JSON.stringify(value, replacer)`
// gives when the replacer turns bigints into decimal strings (the document contract, see
// document.ts). They exist because JSON.stringify with a replacer function calls it for
// every value and loses V8's fast path; writing the text directly is several times faster.
//
// Only plain data is handled here. Anything whose JSON form depends on more than its
// type (a toJSON method, a class instance, a typed array, a boxed primitive) raises
// UnusualValue, and the caller falls back to the reference route for the whole document.

/** Raised for a value these writers do not render; the caller takes the slow route. */
export class UnusualValue extends Error {}

/** One instance, created once: throwing it must not cost a stack capture per document. */
const UNUSUAL = new UnusualValue('value needs JSON.stringify');

/**
 * A JSON string literal. Text without quotes, backslashes, control characters or
 * surrogates (lone surrogates are escaped by JSON.stringify) is only wrapped in quotes.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      return JSON.stringify(s);
    }
  }
  return `"${s}"`;
}

/** A JSON number: non-finite numbers are null, as JSON.stringify writes them. */
export function jsonNumber(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}

function bigintHasToJSON(): boolean {
  return 'toJSON' in BigInt.prototype;
}

/** A bigint as the replacer writes it: its decimal digits as a string. */
export function jsonBigint(n: bigint): string {
  if (bigintHasToJSON()) throw UNUSUAL;
  return `"${n}"`;
}

/**
 * Any value as a member of an object: the JSON text, or undefined when JSON.stringify
 * leaves the member out (undefined, functions, symbols). Throws UnusualValue for values
 * that are not plain data.
 */
export function jsonValue(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      return jsonNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return jsonBigint(v);
    case 'object':
      return v === null ? 'null' : jsonObject(v);
    default:
      return undefined;
  }
}

function jsonObject(o: object): string {
  if ('toJSON' in o) throw UNUSUAL;
  const proto: unknown = Object.getPrototypeOf(o);
  if (Array.isArray(o)) {
    if (proto !== Array.prototype) throw UNUSUAL;
    let s = '[';
    for (let i = 0; i < o.length; i++) {
      if (i > 0) s += ',';
      s += jsonValue(o[i]) ?? 'null';
    }
    return `${s}]`;
  }
  if (proto !== Object.prototype && proto !== null) throw UNUSUAL;
  const rec = o as Record<string, unknown>;
  let s = '{';
  let first = true;
  // Object.keys has JSON.stringify's order: integer keys ascending, then insertion order.
  for (const k of Object.keys(rec)) {
    const text = jsonValue(rec[k]);
    if (text === undefined) continue;
    s += first ? `${jsonString(k)}:${text}` : `,${jsonString(k)}:${text}`;
    first = false;
  }
  return `${s}}`;
}

/** Latest instant Elasticsearch dates accept with four-digit years (9999-12-31T23:59:59.999Z). */
export const MAX_DATE_MS = 253_402_300_799_999;

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

// Date.prototype.toISOString costs about half a microsecond, and a document has up to
// five dates, mostly within the same few seconds. So the text up to the seconds is kept
// per second (a small direct-mapped cache) and only the milliseconds are appended.
const SECOND_SLOTS = 64;
const slotSecond = new Float64Array(SECOND_SLOTS).fill(-1);
const slotText: string[] = new Array<string>(SECOND_SLOTS).fill('');

/** `YYYY-MM-DDTHH:MM:SS.` of a second since the epoch (0 <= second, year <= 9999). */
function secondText(second: number): string {
  const slot = second % SECOND_SLOTS;
  if (slotSecond[slot] === second) return slotText[slot] as string;
  const day = Math.floor(second / 86_400);
  let rest = second - day * 86_400;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hour = (rest - min) / 60;
  const text = `${dayText(day)}${TWO_DIGITS[hour]}:${TWO_DIGITS[min]}:${TWO_DIGITS[sec]}.`;
  slotSecond[slot] = second;
  slotText[slot] = text;
  return text;
}

let cachedDay = -1;
let cachedDayText = '';

/** `YYYY-MM-DDT` of a day since the epoch, from toISOString itself. */
function dayText(day: number): string {
  if (day !== cachedDay) {
    cachedDayText = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  return cachedDayText;
}

/**
 * `new Date(ms).toISOString()` for 0 <= ms <= MAX_DATE_MS, or undefined outside that
 * range (and for NaN): the same rule as the document's `iso()`.
 */
export function isoTime(ms: number): string | undefined {
  if (!(ms >= 0 && ms <= MAX_DATE_MS)) return undefined;
  // A Date truncates its time value to whole milliseconds; ms >= 0, so floor does too.
  const t = Math.floor(ms);
  const milli = t % 1000;
  return `${secondText((t - milli) / 1000)}${THREE_DIGITS[milli]}Z`;
}
