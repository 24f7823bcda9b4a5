/**
 * A syntax tree back to filter text, with the parentheses precedence needs (`not` binds
 * tighter than `and`, `and` tighter than `or`). Parsing the text gives a tree that
 * compiles to the same query.
 */
import type { Comparison, Direction, FilterNode, NumberMatch, Token } from './ast.js';

const OPS: Readonly<Record<Comparison, string>> = {
  eq: '==',
  ne: '!=',
  gt: '>',
  lt: '<',
  ge: '>=',
  le: '<=',
};

const FIELD_OPS = { eq: '', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

function dir(d: Direction): string {
  return d === 'either' ? '' : `${d} `;
}

function numberMatch(m: NumberMatch): string {
  return m.op === 'in'
    ? `in [${m.values.map((v) => v.text).join(' ')}]`
    : `${OPS[m.op]} ${m.value.text}`;
}

/** A `field:value` value: bare when it reads back the same, quoted otherwise. */
function fieldValue(v: Token): string {
  const bare =
    v.text !== '*' &&
    /^[^\s()"'<>=][^\s()"']*$/.test(v.text) &&
    !v.text.includes('&&') &&
    !v.text.includes('||');
  return bare ? v.text : `"${v.text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function precedence(node: FilterNode): number {
  return node.type === 'or' ? 1 : node.type === 'and' ? 2 : node.type === 'not' ? 3 : 4;
}

function wrap(node: FilterNode, min: number): string {
  const text = printFilter(node);
  return precedence(node) < min ? `(${text})` : text;
}

export function printFilter(node: FilterNode): string {
  switch (node.type) {
    case 'or':
      return node.items.map((i) => wrap(i, 1)).join(' or ');
    case 'and':
      return node.items.map((i) => wrap(i, 2)).join(' and ');
    case 'not':
      return `not ${wrap(node.expr, 3)}`;
    case 'any':
    case 'inet':
    case 'inet6':
      return node.type;
    case 'ip':
      return node.values.length === 1
        ? `${dir(node.dir)}ip ${node.values[0]?.text}`
        : `${dir(node.dir)}ip in [${node.values.map((v) => v.text).join(' ')}]`;
    case 'net':
      return `${dir(node.dir)}net ${node.value.text}${node.mask ? ` ${node.mask.text}` : ''}`;
    case 'port':
    case 'as':
      return `${dir(node.dir)}${node.type} ${numberMatch(node.match)}`;
    case 'proto':
    case 'vlan':
    case 'flags':
    case 'exporter':
      return `${node.type} ${node.value.text}`;
    case 'if':
      return `${node.side === 'either' ? '' : `${node.side} `}if ${node.value.text}`;
    case 'bytes':
    case 'packets':
      return `${node.side === 'total' ? '' : `${node.side} `}${node.type} ${OPS[node.op]} ${node.value.text}`;
    case 'duration':
      return `duration ${OPS[node.op]} ${node.value.text}`;
    case 'field':
      return `${node.field.text}:${FIELD_OPS[node.op]}${fieldValue(node.value)}`;
    case 'exists':
      return `${node.field.text}:*`;
  }
}
