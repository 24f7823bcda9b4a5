import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  JsonOut,
  Text,
  writeIpv4Quoted,
  writeIsoQuoted,
  writeNumber,
  writeNumberText,
  writeText,
  writeTextNumber,
} from './json-out.js';

// The byte writers against JavaScript's own text for the same values (JSON.stringify,
// String, Date#toISOString), written into a small buffer at a generated offset so the
// writes that run past the digits and the growing of the buffer are exercised too.

const numberArb = fc.oneof(
  fc.nat(9),
  fc.nat(99_999),
  fc.integer({ min: 0, max: 99_999_999 }),
  fc.integer({ min: 99_999_990, max: 100_000_010 }),
  fc.maxSafeInteger(),
  fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }),
  fc.double(),
  fc.constantFrom(0, -0, 9_999, 10_000, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 1.5e-7, Number.NaN),
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 4294967295, 4294967296),
);

/** What `write` adds after `pad` bytes of filler in a JsonOut that starts small. */
function written(pad: number, write: (o: JsonOut) => void): string {
  const o = new JsonOut(16);
  writeText(o, new Text('x'.repeat(pad)));
  const start = o.pos;
  write(o);
  return o.text(start);
}

test('writeNumber writes what JSON.stringify writes', () => {
  fc.assert(
    fc.property(numberArb, fc.nat(40), (n, pad) => {
      assert.equal(
        written(pad, (o) => writeNumber(o, n)),
        JSON.stringify(n),
      );
    }),
    { numRuns: 20000 },
  );
});

test('writeNumberText writes what String writes', () => {
  fc.assert(
    fc.property(numberArb, fc.nat(40), (n, pad) => {
      assert.equal(
        written(pad, (o) => writeNumberText(o, n)),
        String(n),
      );
    }),
    { numRuns: 20000 },
  );
});

test('numbers written one after another keep their digits (no store runs into the next)', () => {
  fc.assert(
    fc.property(fc.array(numberArb, { maxLength: 30 }), (ns) => {
      const o = new JsonOut(16);
      for (const n of ns) {
        writeNumber(o, n);
        writeText(o, new Text(','));
      }
      assert.equal(o.text(), ns.map((n) => `${JSON.stringify(n)},`).join(''));
    }),
    { numRuns: 3000 },
  );
});

test('writeIpv4Quoted writes the quoted dotted quad', () => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(40), (n, pad) => {
      const text = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      assert.equal(
        written(pad, (o) => writeIpv4Quoted(o, n)),
        JSON.stringify(text),
      );
    }),
    { numRuns: 20000 },
  );
});

test('writeIsoQuoted writes the quoted ISO time of plausible dates, nothing otherwise', () => {
  const msArb = fc.oneof(
    fc.integer({ min: 0, max: 253_402_300_799_999 }),
    fc.double({ min: 0, max: 253_402_300_799_999, noNaN: true }),
    fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }),
    fc.constantFrom(-1, 253_402_300_800_000, Number.NaN),
  );
  fc.assert(
    fc.property(msArb, fc.nat(40), (ms, pad) => {
      const plausible = ms >= 0 && ms <= 253_402_300_799_999;
      let ok = false;
      const text = written(pad, (o) => {
        ok = writeIsoQuoted(o, ms);
      });
      assert.equal(ok, plausible);
      assert.equal(text, plausible ? JSON.stringify(new Date(ms).toISOString()) : '');
    }),
    { numRuns: 20000 },
  );
});

test('writeTextNumber writes the text, then what JSON.stringify writes for the number', () => {
  const texts = [',"bytes":', '"port":', ',"a_rather_long_member_name":', ',"é":'].map(
    (t) => new Text(t),
  );
  fc.assert(
    fc.property(fc.constantFrom(...texts), numberArb, fc.nat(40), (t, n, pad) => {
      assert.equal(
        written(pad, (o) => writeTextNumber(o, t, n)),
        `${t.text}${JSON.stringify(n)}`,
      );
    }),
    { numRuns: 20000 },
  );
});
