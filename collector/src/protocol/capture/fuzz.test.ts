// Property tests: random and mutated capture bytes never make the reader or the UDP
// extractor throw or loop; the streaming parser agrees with the whole-file reader on any
// input and any chunking; the extractor's accounting and bounds always hold.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../../../test/support/fuzz.js';
import {
  type CaptureEnd,
  type CaptureFrame,
  CaptureStreamParser,
  LINKTYPE,
  readCaptureAll,
  SUPPORTED_LINK_TYPES,
  UdpExtractor,
} from './index.js';
import {
  concat,
  ethernet,
  fragment4,
  fragment6,
  ipv6Options,
  nullHeader,
  parseIpv4,
  parseIpv6,
  pcapFile,
  pcapngFile,
  sll,
  sll2,
  udp4,
  udp6,
  udpSegment,
} from './testing.js';

const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);
const seg4 = udpSegment(parseIpv4('10.0.0.1'), parseIpv4('10.0.0.2'), 1000, 2055, payload(100));
const frag4 = fragment4({ src: '10.0.0.1', dst: '10.0.0.2', id: 5 }, seg4, 32);
const seg6 = concat(
  ipv6Options(17),
  udpSegment(parseIpv6('2001:db8::1'), parseIpv6('2001:db8::2'), 1000, 4739, payload(90)),
);
const frag6 = fragment6('2001:db8::1', '2001:db8::2', 60, seg6, 40, 9);
const PACKETS = [
  ethernet(0x0800, udp4('10.0.0.1', '10.0.0.2', 1, 2, payload(40))),
  ethernet(0x86dd, udp6('::1', '::2', 3, 4, payload(30)), [[0x8100, 5]]),
  ...frag4.map((p) => ethernet(0x0800, p)),
  ...frag6.map((p) => ethernet(0x86dd, p)),
];

const SEEDS: Uint8Array[] = [
  pcapFile(
    { linkType: LINKTYPE.ETHERNET },
    PACKETS.map((data, i) => ({ sec: 1_700_000_000 + i, frac: i, data })),
  ),
  pcapFile(
    { linkType: LINKTYPE.RAW, bigEndian: true, nanoseconds: true },
    [...frag4, ...frag6.reverse()].map((data, i) => ({ sec: 1, frac: i, data })),
  ),
  pcapngFile([
    {
      blocks: [
        { type: 'idb', linkType: LINKTYPE.ETHERNET, tsresol: 9 },
        { type: 'idb', linkType: LINKTYPE.LINUX_SLL },
        ...PACKETS.map((data, i) => ({ type: 'epb' as const, iface: 0, ts: BigInt(i), data })),
        { type: 'epb', iface: 1, ts: 7n, data: sll(0x0800, frag4[0] as Uint8Array) },
        { type: 'other', blockType: 5, body: new Uint8Array(12) },
      ],
    },
    {
      bigEndian: true,
      blocks: [
        { type: 'idb', linkType: LINKTYPE.LINUX_SLL2, tsresol: 0x80 | 30, tsoffset: -5n },
        { type: 'idb', linkType: LINKTYPE.NULL },
        { type: 'spb', data: sll2(0x86dd, frag6[1] as Uint8Array) },
        { type: 'pb', iface: 1, ts: 9n, data: nullHeader(2, frag4[1] as Uint8Array, true) },
        { type: 'epb', iface: 0, ts: 10n, data: sll2(0x0800, frag4[2] as Uint8Array) },
      ],
    },
  ]),
];

/** Reads with the stream parser, cut at the given sizes (cycled). */
function streamed(bytes: Uint8Array, sizes: number[]): { frames: CaptureFrame[]; end: CaptureEnd } {
  const p = new CaptureStreamParser();
  const frames: CaptureFrame[] = [];
  let k = 0;
  for (let pos = 0; pos < bytes.length; ) {
    const n = Math.max(1, sizes[k++ % sizes.length] ?? 1);
    frames.push(...p.push(bytes.slice(pos, pos + n)));
    pos += n;
  }
  return { frames, end: p.end() };
}

function checkInput(bytes: Uint8Array, sizes: number[]): void {
  const whole = readCaptureAll(bytes);
  assert.equal(whole.frames.length, whole.end.frames);
  assert.ok(whole.end.bytesRead <= bytes.length);
  if (whole.end.bytesRead < bytes.length) assert.ok(whole.end.error);
  const s = streamed(bytes, sizes);
  assert.deepEqual(s.end, whole.end);
  assert.equal(s.frames.length, whole.frames.length);
  s.frames.forEach((f, i) => {
    const g = whole.frames[i] as CaptureFrame;
    assert.equal(f.timestampNs, g.timestampNs);
    assert.equal(f.linkType, g.linkType);
    assert.deepEqual(Uint8Array.from(f.data), Uint8Array.from(g.data));
  });
  checkExtractor(whole.frames, new UdpExtractor({ maxPendingDatagrams: 3 }));
}

function checkExtractor(frames: CaptureFrame[], ex: UdpExtractor): void {
  for (const f of frames) {
    const d = ex.push(f);
    if (d) {
      assert.ok(d.srcPort >= 0 && d.srcPort <= 0xffff);
      assert.ok(d.payload.length <= 65_535);
    }
  }
  const s = ex.stats();
  const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  assert.equal(s.frames, frames.length);
  assert.equal(s.frames, s.datagrams - s.reassembled + s.fragments + skipped);
  assert.ok(s.pendingDatagrams <= 3);
  assert.ok(s.pendingBytes >= 0 && s.pendingBytes <= 4 * 1024 * 1024);
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 });

describe('property tests', () => {
  test('the seed captures read cleanly', () => {
    for (const seed of SEEDS) {
      const { frames, end } = readCaptureAll(seed);
      assert.equal(end.error, undefined);
      assert.ok(frames.length >= 5);
    }
  });

  test('random bytes, with or without a capture magic in front', () => {
    const prefix = fc.constantFrom(
      new Uint8Array(0),
      Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0),
      Uint8Array.of(0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4),
      Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0),
      Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0x1c, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0),
    );
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 600 }), chunkSizes, (p, rest, sizes) =>
        checkInput(concat(p, rest), sizes),
      ),
      { numRuns: fuzzRuns(400) },
    );
  });

  test('mutated captures: overwritten, cut, inserted and deleted bytes', () => {
    let runs = 0;
    let withFrames = 0;
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.nat(255) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.nat(64) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(
        fc.nat(SEEDS.length - 1),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        chunkSizes,
        (which, edits, sizes) => {
          let b: Uint8Array = (SEEDS[which] as Uint8Array).slice();
          for (const e of edits) {
            const at = b.length ? e.at % b.length : 0;
            if (e.kind === 'set' && b.length) b[at] = e.value;
            else if (e.kind === 'insert')
              b = concat(b.subarray(0, at), Uint8Array.of(e.value), b.subarray(at));
            else if (e.kind === 'delete') b = concat(b.subarray(0, at), b.subarray(at + e.value));
            else if (e.kind === 'cut') b = b.subarray(0, at);
          }
          checkInput(b, sizes);
          runs++;
          if (readCaptureAll(b).frames.length > 0) withFrames++;
        },
      ),
      { numRuns: fuzzRuns(600) },
    );
    // The mutations must leave something to read most of the time, or they test little.
    assert.equal(runs, 600);
    assert.ok(withFrames > 300, `${withFrames} of ${runs} mutated inputs still had frames`);
  });

  test('the extractor on random frames of every supported link type', () => {
    const base = fc.constantFrom(...PACKETS);
    const frame = fc.record({
      linkType: fc.constantFrom(...SUPPORTED_LINK_TYPES, 105, 65535),
      data: fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.tuple(base, fc.nat(), fc.nat(255)).map(([p, at, v]) => {
          const b = p.slice();
          b[at % b.length] = v;
          return b;
        }),
        base.map((p) => p.subarray(14)),
      ),
      dt: fc.integer({ min: -5_000, max: 20_000 }),
    });
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 40 }), (fs) => {
        let t = 1_700_000_000_000;
        const frames: CaptureFrame[] = fs.map((f, index) => {
          t += f.dt;
          return {
            index,
            interfaceId: 0,
            timeMs: t,
            timestampNs: BigInt(t) * 1_000_000n,
            linkType: f.linkType,
            data: f.data,
            origLength: f.data.length,
          };
        });
        checkExtractor(frames, new UdpExtractor({ maxPendingDatagrams: 3 }));
      }),
      { numRuns: fuzzRuns(400) },
    );
  });
});
