/**
 * nfdump-style flow filters compiled to structured Elasticsearch queries over the
 * documents Sluice indexes (see "What a record looks like in Elasticsearch" in the
 * README). The result is always a tree of bool/term/terms/range/exists queries, never a
 * query string: user text can only ever become a field value.
 *
 * Semantics: a comparison (`port > 1023`, `bytes != 0`, `field:>5`) is true only for a
 * document that has the field; `not` is plain negation (`not port 80` also matches
 * documents without ports, such as ICMP flows). Without `src`/`dst` (or `in`/`out` for
 * interfaces) either end may match.
 */
import type { estypes } from '@elastic/elasticsearch';
import { ipv4ToString, ipv6ToString, parseIp } from '../../protocol/address.js';
import type { Comparison, Direction, FilterNode, NumberMatch, Token } from './ast.js';
import { errorAt, type FilterError, parseFilter } from './parse.js';

export type { FilterError } from './parse.js';

export type FilterQuery = estypes.QueryDslQueryContainer;

export type CompileResult = { ok: true; query: FilterQuery } | { ok: false; error: FilterError };

/** Document fields the nfdump primitives read. */
export const FILTER_FIELDS = {
  ip: { src: 'source.ip', dst: 'destination.ip' },
  port: { src: 'source.port', dst: 'destination.port' },
  as: { src: 'source.as.number', dst: 'destination.as.number' },
  if: { in: 'observer.ingress.interface.id', out: 'observer.egress.interface.id' },
  bytes: { total: 'network.bytes', in: 'source.bytes', out: 'destination.bytes' },
  packets: { total: 'network.packets', in: 'source.packets', out: 'destination.packets' },
  proto: 'network.iana_number',
  vlan: 'network.vlan.id',
  flags: 'netflow.tcp_control_bits',
  duration: 'event.duration',
  type: 'network.type',
  exporter: 'netflow.exporter.ip',
} as const;

/** Protocol names nfdump users type, to IANA protocol numbers. */
export const PROTOCOLS: Readonly<Record<string, number>> = {
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ggp: 3,
  ipencap: 4,
  tcp: 6,
  egp: 8,
  igp: 9,
  udp: 17,
  rdp: 27,
  ipv6: 41,
  rsvp: 46,
  gre: 47,
  esp: 50,
  ah: 51,
  icmp6: 58,
  'ipv6-icmp': 58,
  icmpv6: 58,
  eigrp: 88,
  ospf: 89,
  pim: 103,
  vrrp: 112,
  l2tp: 115,
  sctp: 132,
  udplite: 136,
};

/** TCP flag letters and their bits; X is every classic flag (U A P R S F). */
export const TCP_FLAGS: Readonly<Record<string, number>> = {
  F: 0x01,
  S: 0x02,
  R: 0x04,
  P: 0x08,
  A: 0x10,
  U: 0x20,
  E: 0x40,
  C: 0x80,
  X: 0x3f,
};

/**
 * The flag values a `flags` test enumerates: the 8 classic bits plus NS (0x100), which
 * IPFIX's 16-bit tcpControlBits may carry.
 */
export const TCP_FLAG_VALUES = 0x200;

const SCALE: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

const EXPECT = {
  address: 'IPv4 or IPv6 address (or CIDR network)',
  netmask: 'contiguous IPv4 netmask such as 255.255.0.0',
  port: 'port number 0-65535',
  as: 'AS number 0-4294967295',
  interface: 'interface number 0-4294967295',
  vlan: 'VLAN id 0-4095',
  count: 'number (k, M, G, T multiply by 1000s)',
  duration: 'duration in milliseconds',
  protocol: 'protocol name (tcp, udp, icmp, icmp6, gre, esp, ...) or number 0-255',
  flags: 'TCP flag letters U A P R S F E C X (or a number 0-511)',
  field: 'field name such as network.transport',
} as const;

/** A validation failure inside compilation; turned into a {@link FilterError}. */
class Invalid extends Error {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {
    super(expected);
  }
}

function invalid(tok: Token, expected: string): never {
  throw new Invalid(tok.offset, expected);
}

/** A number token's value (decimal with k/M/G/T factors of 1000, or 0x hex), range-checked. */
function numberValue(tok: Token, max: number, expected: string): number {
  const t = tok.text;
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(t)) v = Number.parseInt(t.slice(2), 16);
  else {
    const m = /^([0-9]+)([kmgt]?)$/i.exec(t);
    if (!m) invalid(tok, expected);
    v = Number(m[1]) * (SCALE[(m[2] ?? '').toLowerCase()] ?? Number.NaN);
  }
  if (!Number.isSafeInteger(v) || v < 0 || v > max) invalid(tok, expected);
  return v;
}

function formatIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? ipv4ToString(bytes) : ipv6ToString(bytes);
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = (out[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** An address or CIDR network, canonical (networks with their host bits cleared). */
function addressValue(tok: Token): string {
  const parts = tok.text.split('/');
  const bytes = parseIp(parts[0] ?? '');
  if (!bytes || parts.length > 2) invalid(tok, EXPECT.address);
  if (parts.length === 1) return formatIp(bytes);
  const bits = bytes.length * 8;
  const prefixText = parts[1] ?? '';
  const prefix = /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) {
    throw new Invalid(tok.offset + (parts[0] ?? '').length + 1, `prefix length 0-${bits}`);
  }
  return `${formatIp(maskBytes(bytes, prefix))}/${prefix}`;
}

/** `net A M`: an IPv4 address with a dotted netmask, as CIDR. */
function networkWithMask(value: Token, mask: Token): string {
  const addr = parseIp(value.text);
  if (addr?.length !== 4) invalid(value, 'IPv4 address');
  const m = parseIp(mask.text);
  if (m?.length !== 4) invalid(mask, EXPECT.netmask);
  const n =
    (((m[0] as number) << 24) |
      ((m[1] as number) << 16) |
      ((m[2] as number) << 8) |
      (m[3] as number)) >>>
    0;
  const prefix = 32 - Math.log2((~n >>> 0) + 1 || 2 ** 32);
  if (!Number.isInteger(prefix)) invalid(mask, EXPECT.netmask);
  return `${formatIp(maskBytes(addr, prefix))}/${prefix}`;
}

function protocolValue(tok: Token): number {
  const t = tok.text.toLowerCase();
  if (/^(0x[0-9a-f]+|[0-9]+)$/.test(t)) return numberValue(tok, 255, EXPECT.protocol);
  const n = PROTOCOLS[t];
  if (n === undefined) invalid(tok, EXPECT.protocol);
  return n;
}

function flagsMask(tok: Token): number {
  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(tok.text)) {
    return numberValue(tok, TCP_FLAG_VALUES - 1, EXPECT.flags);
  }
  let mask = 0;
  for (let i = 0; i < tok.text.length; i++) {
    const bit = TCP_FLAGS[(tok.text[i] as string).toUpperCase()];
    if (bit === undefined) throw new Invalid(tok.offset + i, EXPECT.flags);
    mask |= bit;
  }
  return mask;
}

function fieldName(tok: Token): string {
  if (!/^[A-Za-z_@][A-Za-z0-9_@]*(\.[A-Za-z0-9_@]+)*$/.test(tok.text)) invalid(tok, EXPECT.field);
  return tok.text;
}

type Q = FilterQuery;

function term(field: string, value: string | number): Q {
  return { term: { [field]: value } };
}

function terms(field: string, values: readonly (string | number)[]): Q {
  return values.length === 1
    ? term(field, values[0] as string | number)
    : { terms: { [field]: [...values] } };
}

const RANGE_KEY = { gt: 'gt', lt: 'lt', ge: 'gte', le: 'lte' } as const;

function compare(field: string, op: Comparison, value: string | number): Q {
  if (op === 'eq') return term(field, value);
  if (op === 'ne')
    return { bool: { filter: [{ exists: { field } }], must_not: [term(field, value)] } };
  return { range: { [field]: { [RANGE_KEY[op]]: value } } };
}

function anyOf(queries: Q[]): Q {
  return queries.length === 1
    ? (queries[0] as Q)
    : { bool: { should: queries, minimum_should_match: 1 } };
}

function directed(
  dir: Direction,
  fields: { src: string; dst: string },
  build: (f: string) => Q,
): Q {
  return dir === 'either' ? anyOf([build(fields.src), build(fields.dst)]) : build(fields[dir]);
}

function numberMatch(field: string, match: NumberMatch, max: number, expected: string): Q {
  if (match.op === 'in')
    return terms(
      field,
      match.values.map((v) => numberValue(v, max, expected)),
    );
  return compare(field, match.op, numberValue(match.value, max, expected));
}

/** Nested `and`s (and `or`s) as one list: `a and (b and c)` compiles like `a and b and c`. */
function flatten(type: 'and' | 'or', items: readonly FilterNode[]): FilterNode[] {
  return items.flatMap((i) => (i.type === type ? flatten(type, i.items) : [i]));
}

function build(node: FilterNode): Q {
  switch (node.type) {
    case 'and':
      return { bool: { filter: flatten('and', node.items).map(build) } };
    case 'or':
      return anyOf(flatten('or', node.items).map(build));
    case 'not':
      return { bool: { must_not: [build(node.expr)] } };
    case 'any':
      return { match_all: {} };
    case 'inet':
      return term(FILTER_FIELDS.type, 'ipv4');
    case 'inet6':
      return term(FILTER_FIELDS.type, 'ipv6');
    case 'ip': {
      const values = node.values.map(addressValue);
      return directed(node.dir, FILTER_FIELDS.ip, (f) => terms(f, values));
    }
    case 'net': {
      const value = node.mask ? networkWithMask(node.value, node.mask) : addressValue(node.value);
      return directed(node.dir, FILTER_FIELDS.ip, (f) => term(f, value));
    }
    case 'port':
      return directed(node.dir, FILTER_FIELDS.port, (f) =>
        numberMatch(f, node.match, 65535, EXPECT.port),
      );
    case 'as':
      return directed(node.dir, FILTER_FIELDS.as, (f) =>
        numberMatch(f, node.match, 0xffffffff, EXPECT.as),
      );
    case 'proto':
      return term(FILTER_FIELDS.proto, String(protocolValue(node.value)));
    case 'if': {
      const id = String(numberValue(node.value, 0xffffffff, EXPECT.interface));
      const { in: input, out } = FILTER_FIELDS.if;
      if (node.side === 'either') return anyOf([term(input, id), term(out, id)]);
      return term(node.side === 'in' ? input : out, id);
    }
    case 'vlan':
      return term(FILTER_FIELDS.vlan, String(numberValue(node.value, 4095, EXPECT.vlan)));
    case 'flags': {
      const mask = flagsMask(node.value);
      const values: number[] = [];
      for (let v = 0; v < TCP_FLAG_VALUES; v++) if ((v & mask) === mask) values.push(v);
      return terms(FILTER_FIELDS.flags, values);
    }
    case 'bytes':
    case 'packets': {
      const field = FILTER_FIELDS[node.type][node.side];
      return compare(
        field,
        node.op,
        numberValue(node.value, Number.MAX_SAFE_INTEGER, EXPECT.count),
      );
    }
    case 'duration': {
      const ms = numberValue(
        node.value,
        Math.floor(Number.MAX_SAFE_INTEGER / 1e6),
        EXPECT.duration,
      );
      return compare(FILTER_FIELDS.duration, node.op, ms * 1e6);
    }
    case 'exporter':
      return term(FILTER_FIELDS.exporter, addressValue(node.value));
    case 'field': {
      const field = fieldName(node.field);
      if (node.op === 'eq') return term(field, node.value.text);
      return { range: { [field]: { [RANGE_KEY[node.op]]: node.value.text } } };
    }
    case 'exists':
      return { exists: { field: fieldName(node.field) } };
  }
}

/**
 * Compiles a syntax tree (from {@link parseFilter}, or built by a program) to a query.
 * `text` is the filter the tree came from, for the `found` part of errors.
 */
export function compileAst(ast: FilterNode, text = ''): CompileResult {
  try {
    return { ok: true, query: build(ast) };
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    return { ok: false, error: errorAt(text, err.offset, [err.expected]) };
  }
}

/** Compiles filter text to an Elasticsearch query, or says where and why it is wrong. */
export function compileFilter(text: string): CompileResult {
  const parsed = parseFilter(text);
  if (!parsed.ok) return parsed;
  return compileAst(parsed.ast, text);
}

/**
 * An error as a compiler prints it: the message, the filter line, and a caret under the
 * column (with `~` under the rest of the offending word).
 */
export function formatFilterError(text: string, error: FilterError): string {
  const offset = Math.max(0, Math.min(text.length, error.column - 1));
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset);
  const lineNo = text.slice(0, lineStart).split('\n').length;
  const multiline = text.includes('\n');
  const col = offset - lineStart + 1;
  const where = multiline ? `line ${lineNo}, column ${col}` : `column ${col}`;
  const line = text.slice(lineStart, lineEnd).replaceAll('\t', ' ');
  const width = Math.max(1, Math.min(error.found?.length ?? 1, lineEnd - offset));
  const marker = `${' '.repeat(col - 1)}^${'~'.repeat(width - 1)}`;
  return `filter error at ${where}: ${error.message}\n  ${line}\n  ${marker}`;
}
