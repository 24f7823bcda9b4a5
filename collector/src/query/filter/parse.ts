/**
 * Filter text to syntax tree, with the peggy parser generated from `grammar.ts` once,
 * on first use. Syntax errors become {@link FilterError}s: the 1-based column,
 * what the grammar expected there, and the word found instead.
 */
import { createRequire } from 'node:module';
import type peggy from 'peggy';
import type { FilterNode } from './ast.js';
import { GRAMMAR } from './grammar.js';

/** Where and why a filter is wrong; `column` is 1-based, `found` undefined at the end. */
export interface FilterError {
  readonly message: string;
  readonly column: number;
  readonly expected: string[];
  readonly found: string | undefined;
}

let generated: peggy.Parser | undefined;

/**
 * The parser, generated on first use. Why not at load: `sluice collect` loads the query
 * API with it, and peggy's compiler plus the generation cost about 17 MB of RSS in a
 * collector that may never be asked a query.
 */
function parser(): peggy.Parser {
  if (generated === undefined) {
    const load = createRequire(import.meta.url)('peggy') as typeof peggy;
    generated = load.generate(GRAMMAR, { output: 'parser' });
  }
  return generated;
}

/** The word at an offset (what a user sees as "the thing that is wrong"). */
export function foundAt(text: string, offset: number): string | undefined {
  if (offset >= text.length) return undefined;
  const word = /^[^\s()[\],"']+/.exec(text.slice(offset))?.[0];
  return word ?? text.charAt(offset);
}

/** The message of an error: what was expected, and what was found instead. */
export function describe(expected: readonly string[], found: string | undefined): string {
  const list =
    expected.length <= 1
      ? (expected[0] ?? 'nothing')
      : `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]}`;
  return `expected ${list} but found ${found === undefined ? 'end of input' : JSON.stringify(found)}`;
}

function expectationText(e: peggy.parser.Expectation): string | undefined {
  switch (e.type) {
    case 'literal':
      return JSON.stringify(e.text);
    case 'other':
      return e.description === 'whitespace' ? undefined : e.description;
    case 'end':
      return 'end of input';
    case 'any':
      return 'any character';
    case 'class':
      return 'character';
  }
}

/** Builds an error at an offset of the text. */
export function errorAt(
  text: string,
  offset: number,
  expected: readonly string[],
  message?: string,
): FilterError {
  const found = foundAt(text, offset);
  return {
    message: message ?? describe(expected, found),
    column: offset + 1,
    expected: [...expected],
    found,
  };
}

/** Keywords that start a primitive: listed one by one they would drown the message. */
const PRIMITIVE_KEYWORDS = new Set(
  [
    'any',
    'inet',
    'inet6',
    'ipv4',
    'ipv6',
    'src',
    'dst',
    'ip',
    'host',
    'net',
    'port',
    'as',
    'in',
    'out',
    'if',
    'bytes',
    'packets',
    'proto',
    'vlan',
    'flags',
    'duration',
    'exporter',
    'router',
  ].map((k) => JSON.stringify(k)),
);

/** What may start a primitive, as one entry of an expected list. */
export const PRIMITIVE =
  'filter primitive (ip, net, port, proto, as, if, vlan, flags, bytes, packets, duration, exporter, inet, any, src ..., dst ...) or field:value';

/** Peggy's expectations as sorted, distinct, readable entries. */
function expectedList(expectations: readonly peggy.parser.Expectation[]): string[] {
  let list = [
    ...new Set(expectations.map(expectationText).filter((e): e is string => e !== undefined)),
  ];
  if (list.includes('field:value')) {
    list = [...list.filter((e) => e !== 'field:value' && !PRIMITIVE_KEYWORDS.has(e)), PRIMITIVE];
  }
  return list.sort();
}

export type ParseResult = { ok: true; ast: FilterNode } | { ok: false; error: FilterError };

/** Parses filter text to its syntax tree (values not yet validated). */
export function parseFilter(text: string): ParseResult {
  try {
    return { ok: true, ast: parser().parse(text) as FilterNode };
  } catch (err) {
    if (!(err instanceof parser().SyntaxError)) throw err;
    const expected = expectedList(err.expected ?? []);
    return { ok: false, error: errorAt(text, err.location.start.offset, expected) };
  }
}
