// The filter language without a server: every construct compiles to the expected
// Elasticsearch query, precedence and parentheses group as nfdump's do, every kind of
// error points at the right column and says what was expected; properties: no input
// makes the compiler throw, and printed syntax trees re-parse to the same query.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Comparison, Direction, FilterNode, Token } from '../src/query/filter/ast.js';
import {
  compileAst,
  compileFilter,
  type FilterError,
  type FilterQuery,
  formatFilterError,
} from '../src/query/filter/compile.js';
import { PRIMITIVE, parseFilter } from '../src/query/filter/parse.js';
import { printFilter } from '../src/query/filter/print.js';
import { fuzzRuns } from './support/fuzz.js';

const RUNS = fuzzRuns(2_000);

function query(text: string): FilterQuery {
  const r = compileFilter(text);
  if (!r.ok) assert.fail(`${text}: ${formatFilterError(text, r.error)}`);
  return r.query;
}

function failure(text: string): FilterError {
  const r = compileFilter(text);
  if (r.ok) assert.fail(`${text}: compiled to ${JSON.stringify(r.query)}`);
  return r.error;
}

const term = (field: string, value: string | number): FilterQuery => ({ term: { [field]: value } });
const terms = (field: string, values: (string | number)[]): FilterQuery => ({
  terms: { [field]: values },
});
const range = (field: string, op: string, value: string | number): FilterQuery => ({
  range: { [field]: { [op]: value } },
});
const or = (...should: FilterQuery[]): FilterQuery => ({
  bool: { should, minimum_should_match: 1 },
});
const and = (...filter: FilterQuery[]): FilterQuery => ({ bool: { filter } });
const not = (q: FilterQuery): FilterQuery => ({ bool: { must_not: [q] } });
const ne = (field: string, value: string | number): FilterQuery => ({
  bool: { filter: [{ exists: { field } }], must_not: [term(field, value)] },
});
const either = (src: string, dst: string, build: (f: string) => FilterQuery): FilterQuery =>
  or(build(src), build(dst));
const ip = (build: (f: string) => FilterQuery) => either('source.ip', 'destination.ip', build);
const port = (build: (f: string) => FilterQuery) =>
  either('source.port', 'destination.port', build);

/** Flag bytes (0..511) with every bit of `mask` set. */
function flagValues(mask: number): number[] {
  const out: number[] = [];
  for (let v = 0; v < 512; v++) if ((v & mask) === mask) out.push(v);
  return out;
}

const CONSTRUCTS: [string, FilterQuery][] = [
  ['', { match_all: {} }],
  ['any', { match_all: {} }],
  ['( )', { match_all: {} }],
  ['ip 10.0.0.1', ip((f) => term(f, '10.0.0.1'))],
  ['host 10.0.0.1', ip((f) => term(f, '10.0.0.1'))],
  ['src ip 10.0.0.1', term('source.ip', '10.0.0.1')],
  ['dst ip 2001:DB8::1', term('destination.ip', '2001:db8::1')],
  ['src host 192.0.2.7', term('source.ip', '192.0.2.7')],
  [
    'ip in [10.0.0.1 10.0.0.2, 192.168.0.0/16]',
    ip((f) => terms(f, ['10.0.0.1', '10.0.0.2', '192.168.0.0/16'])),
  ],
  ['dst ip in [10.0.0.1]', term('destination.ip', '10.0.0.1')],
  ['net 10.0.0.0/8', ip((f) => term(f, '10.0.0.0/8'))],
  ['src net 10.1.2.3/16', term('source.ip', '10.1.0.0/16')],
  ['dst net 2001:db8:1:2::/32', term('destination.ip', '2001:db8::/32')],
  ['net 172.16.0.0 255.240.0.0', ip((f) => term(f, '172.16.0.0/12'))],
  ['src net 10.0.0.0 255.255.255.255', term('source.ip', '10.0.0.0/32')],
  ['port 443', port((f) => term(f, 443))],
  ['src port > 1023', range('source.port', 'gt', 1023)],
  ['dst port < 1024', range('destination.port', 'lt', 1024)],
  ['src port >= 1024', range('source.port', 'gte', 1024)],
  ['src port <= 1024', range('source.port', 'lte', 1024)],
  ['src port = 53', term('source.port', 53)],
  ['src port == 53', term('source.port', 53)],
  ['src port != 53', ne('source.port', 53)],
  ['src port eq 53', term('source.port', 53)],
  ['src port gt 53', range('source.port', 'gt', 53)],
  ['src port lt 53', range('source.port', 'lt', 53)],
  ['src port ge 53', range('source.port', 'gte', 53)],
  ['src port le 53', range('source.port', 'lte', 53)],
  ['src port ne 53', ne('source.port', 53)],
  ['src port>1023', range('source.port', 'gt', 1023)],
  ['port 0x50', port((f) => term(f, 80))],
  ['dst port in [80 443]', terms('destination.port', [80, 443])],
  ['port in [80,443 , 8080]', port((f) => terms(f, [80, 443, 8080]))],
  ['proto tcp', term('network.iana_number', '6')],
  ['proto UDP', term('network.iana_number', '17')],
  ['proto icmp', term('network.iana_number', '1')],
  ['proto icmp6', term('network.iana_number', '58')],
  ['proto gre', term('network.iana_number', '47')],
  ['proto esp', term('network.iana_number', '50')],
  ['proto 47', term('network.iana_number', '47')],
  ['as 64512', either('source.as.number', 'destination.as.number', (f) => term(f, 64512))],
  ['src as 64512', term('source.as.number', 64512)],
  ['dst as > 4200000000', range('destination.as.number', 'gt', 4200000000)],
  ['as in [1 2]', either('source.as.number', 'destination.as.number', (f) => terms(f, [1, 2]))],
  ['in if 3', term('observer.ingress.interface.id', '3')],
  ['out if 5', term('observer.egress.interface.id', '5')],
  [
    'if 3',
    or(term('observer.ingress.interface.id', '3'), term('observer.egress.interface.id', '3')),
  ],
  ['vlan 10', term('network.vlan.id', '10')],
  ['flags S', terms('netflow.tcp_control_bits', flagValues(0x02))],
  ['flags SA', terms('netflow.tcp_control_bits', flagValues(0x12))],
  ['flags uaprsfec', terms('netflow.tcp_control_bits', flagValues(0xff))],
  ['flags X', terms('netflow.tcp_control_bits', flagValues(0x3f))],
  ['bytes > 1M', range('network.bytes', 'gt', 1_000_000)],
  ['bytes >= 2k', range('network.bytes', 'gte', 2_000)],
  ['bytes < 3G', range('network.bytes', 'lt', 3_000_000_000)],
  ['bytes 4K', term('network.bytes', 4_000)],
  ['in bytes > 1m', range('source.bytes', 'gt', 1_000_000)],
  ['out bytes > 1', range('destination.bytes', 'gt', 1)],
  ['packets < 10', range('network.packets', 'lt', 10)],
  ['out packets != 0', ne('destination.packets', 0)],
  ['duration > 1000', range('event.duration', 'gt', 1_000_000_000)],
  ['duration 0', term('event.duration', 0)],
  ['inet', term('network.type', 'ipv4')],
  ['ipv4', term('network.type', 'ipv4')],
  ['inet6', term('network.type', 'ipv6')],
  ['ipv6', term('network.type', 'ipv6')],
  ['exporter 192.0.2.1', term('netflow.exporter.ip', '192.0.2.1')],
  ['exporter 2001:db8::/32', term('netflow.exporter.ip', '2001:db8::/32')],
  ['router ip 192.0.2.1', term('netflow.exporter.ip', '192.0.2.1')],
  ['network.transport:tcp', term('network.transport', 'tcp')],
  ['netflow.exporter.ip:192.0.2.1', term('netflow.exporter.ip', '192.0.2.1')],
  ['source.ip:2001:db8::1', term('source.ip', '2001:db8::1')],
  ['sflow.sample.input.format: "single"', term('sflow.sample.input.format', 'single')],
  ["netflow.sampler_name:'a \\'b\\' \"c\"'", term('netflow.sampler_name', 'a \'b\' "c"')],
  ['x:"*"', term('x', '*')],
  ['@timestamp:>=2024-01-01', range('@timestamp', 'gte', '2024-01-01')],
  ['network.bytes:>100', range('network.bytes', 'gt', '100')],
  ['network.bytes:<= 100', range('network.bytes', 'lte', '100')],
  ['network.vlan.id:*', { exists: { field: 'network.vlan.id' } }],
  [
    'PROTO Tcp AND Src Port > 1023',
    and(term('network.iana_number', '6'), range('source.port', 'gt', 1023)),
  ],
  [
    'port 80 # a comment\n and inet',
    and(
      port((f) => term(f, 80)),
      term('network.type', 'ipv4'),
    ),
  ],
];

test('every construct compiles to the expected structured query', () => {
  for (const [text, expected] of CONSTRUCTS) {
    assert.deepEqual(query(text), expected, text);
  }
  // Never a query string, whatever the user types.
  for (const [text] of CONSTRUCTS) assert.doesNotMatch(JSON.stringify(query(text)), /query_string/);
});

test('precedence: not binds tighter than and, and tighter than or; parentheses group', () => {
  const a = term('network.type', 'ipv4');
  const b = term('network.vlan.id', '1');
  const c = term('network.vlan.id', '2');
  assert.deepEqual(query('inet or vlan 1 and vlan 2'), or(a, and(b, c)));
  assert.deepEqual(query('inet and vlan 1 or vlan 2'), or(and(a, b), c));
  assert.deepEqual(query('(inet or vlan 1) and vlan 2'), and(or(a, b), c));
  assert.deepEqual(query('not inet and vlan 1'), and(not(a), b));
  assert.deepEqual(query('not (inet and vlan 1)'), not(and(a, b)));
  assert.deepEqual(query('! inet || vlan 1 && vlan 2'), or(not(a), and(b, c)));
  assert.deepEqual(query('!inet&&vlan 1'), and(not(a), b));
  assert.deepEqual(query('not not inet'), not(not(a)));
  assert.deepEqual(query('((inet))'), a);
  // Nested groups of the same operator are one list.
  assert.deepEqual(query('inet and (vlan 1 and vlan 2)'), and(a, b, c));
  assert.deepEqual(query('(inet or vlan 1) or vlan 2'), or(a, b, c));
  // `!=` is a comparison, not a negation; keywords need a word boundary.
  assert.deepEqual(query('vlan 1 and not:x'), and(b, term('not', 'x')));
  assert.equal(failure('vlan 1 andnot:x').column, 8);
});

/** [filter, column, expected entries, found]. */
const ERRORS: [string, number, string[], string | undefined][] = [
  ['src port > abc', 12, ['number'], 'abc'],
  ['port 70000', 6, ['port number 0-65535'], '70000'],
  ['port in [80 99999]', 13, ['port number 0-65535'], '99999'],
  ['port in [80,]', 13, ['number'], ']'],
  ['port in [80', 12, ['","', '"]"'], undefined],
  ['bytes > 10Q', 9, ['number'], '10Q'],
  [
    'packets > 99999999999999999',
    11,
    ['number (k, M, G, T multiply by 1000s)'],
    '99999999999999999',
  ],
  ['duration > 9999999999999', 12, ['duration in milliseconds'], '9999999999999'],
  ['ip 10.0.0.256', 4, ['IPv4 or IPv6 address (or CIDR network)'], '10.0.0.256'],
  ['ip example.com', 4, ['IPv4 or IPv6 address (or CIDR network)'], 'example.com'],
  ['src ip', 7, ['"in"', 'IP address'], undefined],
  ['ip 10.0.0.0/33', 13, ['prefix length 0-32'], '33'],
  ['net 2001:db8::/129', 16, ['prefix length 0-128'], '129'],
  ['ip in [10.0.0.1 10.0.0.x]', 17, ['IPv4 or IPv6 address (or CIDR network)'], '10.0.0.x'],
  ['net 10.0.0.0 255.0.255.0', 14, ['contiguous IPv4 netmask such as 255.255.0.0'], '255.0.255.0'],
  ['net 2001:db8:: 255.0.0.0', 5, ['IPv4 address'], '2001:db8::'],
  ['proto foo', 7, ['protocol name (tcp, udp, icmp, icmp6, gre, esp, ...) or number 0-255'], 'foo'],
  ['proto 256', 7, ['protocol name (tcp, udp, icmp, icmp6, gre, esp, ...) or number 0-255'], '256'],
  ['flags SQ', 8, ['TCP flag letters U A P R S F E C X (or a number 0-511)'], 'Q'],
  ['vlan 5000', 6, ['VLAN id 0-4095'], '5000'],
  ['as 4294967296', 4, ['AS number 0-4294967295'], '4294967296'],
  ['in if abc', 7, ['number'], 'abc'],
  ['exporter 192.0.2', 10, ['IPv4 or IPv6 address (or CIDR network)'], '192.0.2'],
  ['(port 80', 9, ['")"', '"and"', '"or"'], undefined],
  ['port 80 )', 9, ['"and"', '"or"', 'end of input'], ')'],
  ['port 80 port 81', 9, ['"and"', '"or"', 'end of input'], 'port'],
  ['port 80 or', 11, ['"("', '"not"', PRIMITIVE], undefined],
  ['frobnicate 3', 1, ['"("', '"not"', 'end of input', PRIMITIVE], 'frobnicate'],
  ['src frob 1', 5, ['"as"', '"host"', '"ip"', '"net"', '"port"'], 'frob'],
  ['x:"abc', 7, ['closing "'], undefined],
  ['x:>', 4, ['quoted string', 'value'], undefined],
  ['a..b:1', 1, ['field name such as network.transport'], 'a..b:1'],
];

test('errors point at the column and say what was expected', () => {
  for (const [text, column, expected, found] of ERRORS) {
    const e = failure(text);
    assert.deepEqual(
      { column: e.column, expected: e.expected, found: e.found },
      { column, expected, found },
      text,
    );
    assert.match(e.message, /^expected .+ but found /, text);
  }
});

test('formatFilterError prints the filter with a caret under the column', () => {
  const text = 'src port > abc';
  assert.equal(
    formatFilterError(text, failure(text)),
    [
      'filter error at column 12: expected number but found "abc"',
      '  src port > abc',
      '             ^~~',
    ].join('\n'),
  );
  const open = '(port 80';
  assert.equal(
    formatFilterError(open, failure(open)),
    [
      'filter error at column 9: expected ")", "and" or "or" but found end of input',
      '  (port 80',
      '          ^',
    ].join('\n'),
  );
  const multi = 'port 80 and\n  vlan 99999';
  assert.equal(
    formatFilterError(multi, failure(multi)),
    [
      'filter error at line 2, column 8: expected VLAN id 0-4095 but found "99999"',
      '    vlan 99999',
      '         ^~~~~',
    ].join('\n'),
  );
});

test('property: no input makes the compiler throw', () => {
  const words = fc.constantFrom(
    'src',
    'dst',
    'ip',
    'net',
    'port',
    'in',
    'out',
    'if',
    'as',
    'proto',
    'tcp',
    'flags',
    'SA',
    'bytes',
    'packets',
    'duration',
    'vlan',
    'exporter',
    'inet',
    'inet6',
    'any',
    'and',
    'or',
    'not',
    '!',
    '&&',
    '||',
    '(',
    ')',
    '[',
    ']',
    ',',
    '>',
    '<=',
    '!=',
    'eq',
    '10.0.0.1',
    '10.0.0.0/8',
    '2001:db8::/32',
    '255.0.0.0',
    '80',
    '1M',
    '0x10',
    'x:',
    'a.b:"q"',
    ':*',
    '"',
    "'",
    '\\',
    '#',
    '\n',
    ' ',
  );
  const filterish = fc.array(words, { maxLength: 12 }).map((w) => w.join(' '));
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 40 }), filterish), (text) => {
      const r = compileFilter(text);
      if (!r.ok) {
        assert.ok(r.error.column >= 1 && r.error.column <= text.length + 1);
        assert.ok(r.error.expected.length > 0);
        assert.equal(typeof formatFilterError(text, r.error), 'string');
      }
    }),
    { numRuns: RUNS },
  );
});

const tok = (text: string): Token => ({ text, offset: 0 });
const dir = fc.constantFrom<Direction>('src', 'dst', 'either');
const cmp = fc.constantFrom<Comparison>('eq', 'ne', 'gt', 'lt', 'ge', 'le');
const address = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
);
const number = (max: number) =>
  fc.oneof(
    fc.integer({ min: 0, max }).map(String),
    fc.integer({ min: 0, max }).map((n) => `0x${n.toString(16)}`),
    fc.integer({ min: 0, max: Math.floor(max / 1000) }).map((n) => `${n}k`),
  );
const numberMatch = (max: number) =>
  fc.oneof(
    fc.record({ op: cmp, value: number(max).map(tok) }),
    fc.record({
      op: fc.constant('in' as const),
      values: fc.array(number(max).map(tok), { minLength: 1, maxLength: 4 }),
    }),
  );
const fieldName = fc.constantFrom('network.transport', 'source.port', '@timestamp', 'netflow.x_y');

const primitive: fc.Arbitrary<FilterNode> = fc.oneof(
  fc.constantFrom<FilterNode>({ type: 'any' }, { type: 'inet' }, { type: 'inet6' }),
  fc.record({
    type: fc.constant('ip' as const),
    dir,
    values: fc.array(address.map(tok), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ type: fc.constant('net' as const), dir, value: address.map(tok) }),
  fc.record({
    type: fc.constant('net' as const),
    dir,
    value: fc.ipV4().map(tok),
    mask: fc.integer({ min: 0, max: 32 }).map((p) => {
      const m = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      return tok([24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join('.'));
    }),
  }),
  fc.record({ type: fc.constant('port' as const), dir, match: numberMatch(65535) }),
  fc.record({ type: fc.constant('as' as const), dir, match: numberMatch(0xffffffff) }),
  fc.record({
    type: fc.constant('proto' as const),
    value: fc
      .oneof(
        fc.constantFrom('tcp', 'UDP', 'icmp6', 'gre'),
        fc.integer({ min: 0, max: 255 }).map(String),
      )
      .map(tok),
  }),
  fc.record({
    type: fc.constant('if' as const),
    side: fc.constantFrom('in' as const, 'out' as const, 'either' as const),
    value: number(0xffffffff).map(tok),
  }),
  fc.record({ type: fc.constant('vlan' as const), value: number(4095).map(tok) }),
  fc.record({
    type: fc.constant('flags' as const),
    value: fc
      .string({ unit: fc.constantFrom(...'UAPRSFECXuaprsfecx'), minLength: 1, maxLength: 5 })
      .map(tok),
  }),
  fc.record({
    type: fc.constantFrom('bytes' as const, 'packets' as const),
    side: fc.constantFrom('in' as const, 'out' as const, 'total' as const),
    op: cmp,
    value: number(Number.MAX_SAFE_INTEGER).map(tok),
  }),
  fc.record({ type: fc.constant('duration' as const), op: cmp, value: number(1e9).map(tok) }),
  fc.record({ type: fc.constant('exporter' as const), value: address.map(tok) }),
  fc.record({
    type: fc.constant('field' as const),
    field: fieldName.map(tok),
    op: fc.constantFrom('eq' as const, 'gt' as const, 'ge' as const, 'lt' as const, 'le' as const),
    value: fc.string({ maxLength: 12 }).map(tok),
  }),
  fc.record({ type: fc.constant('exists' as const), field: fieldName.map(tok) }),
);

const tree = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    primitive,
    fc
      .array(tie('node'), { minLength: 2, maxLength: 3 })
      .map((items): FilterNode => ({ type: 'and', items })),
    fc
      .array(tie('node'), { minLength: 2, maxLength: 3 })
      .map((items): FilterNode => ({ type: 'or', items })),
    tie('node').map((expr): FilterNode => ({ type: 'not', expr })),
  ),
})).node;

test('property: a printed syntax tree parses back to the same query', () => {
  fc.assert(
    fc.property(tree, (ast) => {
      const direct = compileAst(ast);
      if (!direct.ok) assert.fail(`${JSON.stringify(ast)}: ${direct.error.message}`);
      const text = printFilter(ast);
      const reparsed = compileFilter(text);
      if (!reparsed.ok) assert.fail(formatFilterError(text, reparsed.error));
      assert.deepEqual(reparsed.query, direct.query, text);
      // The tree itself survives too, up to grouping of same-operator lists.
      const parsed = parseFilter(text);
      assert.ok(parsed.ok);
      assert.equal(printFilter(parsed.ast), text);
    }),
    { numRuns: RUNS },
  );
});
