/** @jest-environment node */
import { adHocTerm, quoteValue, withAdHocFilters } from './filter';
import { compileFilter } from './test/collector';

/** The Elasticsearch query the collector compiles a filter to; fails on a syntax error. */
function compiled(filter: string): unknown {
  const result = compileFilter(filter);
  if (!result.ok) throw new Error(`${filter}: ${result.error.message}`);
  return result.query;
}

describe('ad-hoc filters to nfdump filter text', () => {
  it('turns = and != into field terms the collector compiles to term queries', () => {
    expect(compiled(adHocTerm({ key: 'source.ip', operator: '=', value: '10.0.0.1' }))).toEqual({
      term: { 'source.ip': '10.0.0.1' },
    });
    expect(compiled(adHocTerm({ key: 'network.transport', operator: '!=', value: 'udp' }))).toEqual(
      {
        bool: { must_not: [{ term: { 'network.transport': 'udp' } }] },
      },
    );
  });

  it('keeps quotes, backslashes and filter syntax inside a value as that value', () => {
    for (const value of [
      'a"b',
      'c\\d',
      'x) or any or (y',
      'p && q',
      'tab\there',
      '# not a comment',
      '',
    ]) {
      expect(compiled(adHocTerm({ key: 'host.name', operator: '=', value }))).toEqual({
        term: { 'host.name': value },
      });
    }
  });

  it('turns comparisons into range queries', () => {
    expect(compiled(adHocTerm({ key: 'destination.port', operator: '>', value: '1023' }))).toEqual({
      range: { 'destination.port': { gt: '1023' } },
    });
    expect(compiled(adHocTerm({ key: 'destination.port', operator: '<', value: '80' }))).toEqual({
      range: { 'destination.port': { lt: '80' } },
    });
  });

  it('turns one-of operators into an or of terms', () => {
    const f = { key: 'source.port', operator: '=|', value: '22', values: ['22', '3389'] };
    expect(compiled(adHocTerm(f))).toEqual({
      bool: {
        should: [{ term: { 'source.port': '22' } }, { term: { 'source.port': '3389' } }],
        minimum_should_match: 1,
      },
    });
    expect(compiled(adHocTerm({ ...f, operator: '!=|' }))).toEqual({
      bool: {
        must_not: [
          {
            bool: {
              should: [{ term: { 'source.port': '22' } }, { term: { 'source.port': '3389' } }],
              minimum_should_match: 1,
            },
          },
        ],
      },
    });
  });

  it('refuses regular expressions and keys that are not field names', () => {
    expect(() => adHocTerm({ key: 'source.ip', operator: '=~', value: '10.*' })).toThrow(
      /not supported/,
    );
    expect(() => adHocTerm({ key: 'a b) or (c', operator: '=', value: 'x' })).toThrow(
      /not a field name/,
    );
  });

  it("ands the terms with the query's filter, whose own or cannot swallow them", () => {
    const text = withAdHocFilters('proto tcp or proto udp # web', [
      { key: 'source.ip', operator: '=', value: '10.0.0.1' },
      { key: 'observer.ip', operator: '!=', value: '192.0.2.1' },
    ]);
    expect(compiled(text)).toEqual({
      bool: {
        filter: [
          {
            bool: {
              should: [
                { term: { 'network.iana_number': '6' } },
                { term: { 'network.iana_number': '17' } },
              ],
              minimum_should_match: 1,
            },
          },
          { term: { 'source.ip': '10.0.0.1' } },
          { bool: { must_not: [{ term: { 'observer.ip': '192.0.2.1' } }] } },
        ],
      },
    });
  });

  it('leaves the filter alone without ad-hoc filters, and skips filters with no key', () => {
    expect(withAdHocFilters(' proto tcp ', undefined)).toBe('proto tcp');
    expect(withAdHocFilters(undefined, [{ key: '', operator: '=', value: 'x' }])).toBe('');
    expect(compiled(withAdHocFilters('', [{ key: 'a', operator: '=', value: '1' }]))).toEqual({
      term: { a: '1' },
    });
  });

  it('quotes with escapes', () => {
    expect(quoteValue('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});
