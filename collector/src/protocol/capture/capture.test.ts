// Capture reading checked against tshark: the shared real captures, the same converted by
// editcap/mergecap (pcapng, nanosecond pcap, modified pcap, raw IP, snapped, merged with
// several interfaces), and captures built here for the link types and pcapng features the
// shared ones lack (written to a temp dir, then read by both tshark and us).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PCAPS_DIR, tsharkFields } from '@sluice/testkit';
import {
  type CaptureFrame,
  CaptureStreamParser,
  decodeLink,
  detectCaptureFormat,
  LINKTYPE,
  readCaptureAll,
  UdpExtractor,
} from './index.js';
import {
  concat,
  ethernet,
  ipv6Options,
  nullHeader,
  type PcapngBlock,
  pcapFile,
  pcapngFile,
  sll,
  sll2,
  udp4,
  udp6,
} from './testing.js';

const AKVORADO = join(PCAPS_DIR, 'akvorado');
const TMP = mkdtempSync(join(tmpdir(), 'sluice-capture-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

function pcapsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...pcapsUnder(p));
    else if (/\.pcap(ng)?$/.test(e)) out.push(p);
  }
  return out;
}

function tool(cmd: string, ...args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function epoch(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const f = ns % 1_000_000_000n;
  return `${s}.${f.toString().padStart(9, '0')}`;
}

const FIELDS = [
  'frame.time_epoch',
  'frame.len',
  'frame.cap_len',
  'frame.interface_id',
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
] as const;

const first = (v: string | undefined) => (v ?? '').split(',')[0] ?? '';

/**
 * Reads `file` with tshark and with us and compares, frame by frame: count, timestamp (to
 * the nanosecond as tshark prints it), lengths, interface, and — when the outermost IP
 * packet carries UDP directly (after IPv6 extension headers) and is not cut by the snap
 * length — addresses, ports and UDP length. Returns our frames for further checks.
 */
function compareWithTshark(file: string): { frames: CaptureFrame[]; udp: number } {
  const rows = tsharkFields(file, FIELDS);
  const { frames, end } = readCaptureAll(readFileSync(file));
  assert.equal(end.error, undefined, `${file}: ${end.error?.message}`);
  assert.equal(frames.length, rows.length, `${file}: frame count`);
  assert.equal(end.frames, rows.length);
  const ex = new UdpExtractor();
  let udp = 0;
  frames.forEach((f, i) => {
    const [time, len, capLen, iface, protocols, ipSrc, ipDst, ip6Src, ip6Dst, sport, dport, ulen] =
      rows[i] as string[];
    const where = `${file} frame ${i + 1}`;
    assert.equal(f.index, i);
    // tshark shows no time for a Simple Packet Block; we give those the epoch.
    assert.equal(epoch(f.timestampNs), time || '0.000000000', `${where}: time`);
    assert.ok(Math.abs(f.timeMs - Number(time) * 1000) < 0.001, `${where}: timeMs`);
    assert.equal(f.origLength, Number(len), `${where}: frame.len`);
    assert.equal(f.data.length, Number(capLen), `${where}: frame.cap_len`);
    if (iface) assert.equal(f.interfaceId, Number(iface), `${where}: interface`);
    const layers = (protocols ?? '').split(':');
    let at = layers.findIndex((l) => l === 'ip' || l === 'ipv6');
    const outer = layers[at];
    at++;
    while (layers[at]?.startsWith('ipv6.')) at++;
    const isUdp = outer !== undefined && layers[at] === 'udp' && capLen === len;
    const d = ex.push(f);
    if (!isUdp) {
      assert.equal(d, undefined, `${where}: no UDP expected (${protocols})`);
      return;
    }
    udp++;
    assert.ok(d, `${where}: UDP expected (${protocols}) ${JSON.stringify(ex.stats().skipped)}`);
    assert.equal(d.frameIndex, i);
    assert.equal(d.ipVersion, outer === 'ip' ? 4 : 6);
    assert.equal(d.src, first(outer === 'ip' ? ipSrc : ip6Src), `${where}: src`);
    assert.equal(d.dst, first(outer === 'ip' ? ipDst : ip6Dst), `${where}: dst`);
    assert.equal(d.srcPort, Number(first(sport)), `${where}: srcport`);
    assert.equal(d.dstPort, Number(first(dport)), `${where}: dstport`);
    assert.equal(d.payload.length + 8, Number(first(ulen)), `${where}: udp.length`);
    assert.equal(d.timestampNs, f.timestampNs);
  });
  const s = ex.stats();
  assert.equal(s.datagrams, udp);
  return { frames, udp };
}

const akvorado = pcapsUnder(AKVORADO);

describe('shared captures (classic pcap, Ethernet)', () => {
  test('there are captures to read', () => {
    assert.ok(akvorado.length >= 50, `${akvorado.length} captures under ${AKVORADO}`);
  });

  test('every frame, timestamp and UDP datagram equals tshark', () => {
    let udp = 0;
    for (const file of akvorado) {
      assert.equal(detectCaptureFormat(readFileSync(file)), 'pcap');
      udp += compareWithTshark(file).udp;
    }
    assert.ok(udp >= 35, `${udp} UDP datagrams`);
  });

  test('encapsulations are counted by reason, not returned', () => {
    const ex = new UdpExtractor();
    for (const name of ['gre-v4-plain', 'ipv4-ipv4', 'srv6-end-dt6', 'mpls-ipv4', 'vlan-ipv6']) {
      for (const f of readCaptureAll(readFileSync(join(AKVORADO, 'encap', `${name}.pcap`)))
        .frames) {
        assert.equal(ex.push(f), undefined);
      }
    }
    const s = ex.stats();
    assert.equal(s.skipped.not_udp, 4); // GRE, IP-in-IP, IPv6-in-IPv6 after SRH, IPv4-in-IPv6
    assert.equal(s.skipped.not_ip, 1); // MPLS
    assert.equal(s.frames, 5);
  });
});

describe('captures converted by editcap and mergecap', () => {
  const udpFiles = akvorado.filter((f) => /\/(netflow|sflow)\//.test(f));
  const merged = join(TMP, 'merged.pcap');
  let mergedMade = false;
  /** Every shared capture, one after the other (made once, by whichever test runs first). */
  const mergedFile = () => {
    if (!mergedMade) tool('mergecap', '-a', '-F', 'pcap', '-w', merged, ...akvorado);
    mergedMade = true;
    return merged;
  };

  test('mergecap -a of every shared capture', () => {
    const { frames } = compareWithTshark(mergedFile());
    assert.equal(frames.length, akvorado.length + 1); // gre-v4-key holds two
  });

  for (const [name, args] of [
    ['pcapng', ['-F', 'pcapng']],
    ['nanosecond pcap', ['-F', 'nsecpcap']],
    ['modified (Kuznetzov) pcap', ['-F', 'modpcap']],
    ['snapped to 60 bytes', ['-s', '60', '-F', 'pcapng']],
    ['time-shifted by -0.000000123 s, nanosecond pcap', ['-F', 'nsecpcap', '-t', '-0.000000123']],
  ] as const) {
    test(`editcap ${name}`, () => {
      const out = join(TMP, `editcap-${name.replace(/\W+/g, '-')}.cap`);
      tool('editcap', ...args, mergedFile(), out);
      const { frames, udp } = compareWithTshark(out);
      assert.equal(frames.length, akvorado.length + 1);
      if (name.startsWith('snapped')) assert.equal(udp, 0);
    });
  }

  test('nanosecond pcap converted to pcapng (if_tsresol 9)', () => {
    const ns = join(TMP, 'ns.pcap');
    const ng = join(TMP, 'ns.pcapng');
    tool('editcap', '-F', 'nsecpcap', '-t', '0.000000007', mergedFile(), ns);
    tool('editcap', '-F', 'pcapng', ns, ng);
    const { frames } = compareWithTshark(ng);
    assert.ok(frames.every((f) => f.timestampNs % 1000n === 7n));
  });

  test('raw IP (editcap -C 14 -T rawip / rawip4) and a two-interface pcapng merge', () => {
    const eth = join(TMP, 'udp-eth.pcap');
    tool('mergecap', '-a', '-F', 'pcap', '-w', eth, ...udpFiles);
    for (const t of ['rawip', 'rawip4']) {
      const out = join(TMP, `${t}.pcap`);
      tool('editcap', '-C', '14', '-L', '-T', t, eth, out);
      const { frames, udp } = compareWithTshark(out);
      assert.equal(frames[0]?.linkType, t === 'rawip' ? LINKTYPE.RAW : LINKTYPE.IPV4);
      assert.equal(udp, udpFiles.length);
    }
    const both = join(TMP, 'two-interfaces.pcapng');
    tool('mergecap', '-F', 'pcapng', '-w', both, eth, join(TMP, 'rawip.pcap'));
    const { frames, udp } = compareWithTshark(both);
    assert.deepEqual(
      new Set(frames.map((f) => f.linkType)),
      new Set([LINKTYPE.ETHERNET, LINKTYPE.RAW]),
    );
    assert.deepEqual(new Set(frames.map((f) => f.interfaceId)), new Set([0, 1]));
    assert.equal(udp, 2 * udpFiles.length);
  });
});

// --- captures built here -------------------------------------------------------------

const PAYLOAD = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff);
const V4 = udp4('192.0.2.1', '198.51.100.7', 40001, 2055, PAYLOAD);
const V6 = udp6('2001:db8::1', '2001:db8:0:1::2', 40002, 4739, PAYLOAD.subarray(0, 200));
// IPv6 with hop-by-hop and destination options before UDP.
const V6X = udp6('fe80::1', 'ff02::1:2', 546, 547, PAYLOAD.subarray(0, 64), [
  ipv6Options(60),
  ipv6Options(17, 2),
]);
const TCP4 = udp4('192.0.2.1', '198.51.100.7', 1, 2, PAYLOAD.subarray(0, 20));
TCP4[9] = 6; // protocol TCP (header checksum left stale: neither reader checks it)

function records(datas: Uint8Array[], baseSec = 1_700_000_000, nanos = false) {
  return datas.map((data, i) => ({
    sec: baseSec + i,
    frac: nanos ? 123_456_789 + i : 654_321 + i,
    data,
  }));
}

function writeTemp(name: string, bytes: Uint8Array): string {
  const p = join(TMP, name);
  writeFileSync(p, bytes);
  return p;
}

describe('link types (pcap files built here, decoded by tshark)', () => {
  const cases: [string, number, Uint8Array[]][] = [
    [
      'Ethernet with 802.1Q and QinQ tags',
      LINKTYPE.ETHERNET,
      [
        ethernet(0x0800, V4),
        ethernet(0x86dd, V6, [[0x8100, 100]]),
        ethernet(0x0800, V4, [
          [0x88a8, 200],
          [0x8100, 300],
        ]),
        ethernet(0x86dd, V6X),
        ethernet(0x0806, new Uint8Array(28)),
        ethernet(0x0800, TCP4),
      ],
    ],
    [
      'Linux cooked v1',
      LINKTYPE.LINUX_SLL,
      [
        sll(0x0800, V4),
        sll(0x86dd, V6, 4),
        sll(0x86dd, V6X),
        sll(0x0806, new Uint8Array(28)),
        sll(0x8100, concat(Uint8Array.of(0, 42, 0x08, 0x00), V4)),
      ],
    ],
    [
      'Linux cooked v2',
      LINKTYPE.LINUX_SLL2,
      [
        sll2(0x0800, V4),
        sll2(0x86dd, V6),
        sll2(0x86dd, V6X),
        sll2(0x8100, concat(Uint8Array.of(0, 43, 0x86, 0xdd), V6)),
      ],
    ],
    ['raw IP', LINKTYPE.RAW, [V4, V6, V6X, TCP4]],
    ['raw IP as DLT_RAW 12', 12, [V4, V6]],
    ['raw IP as DLT_RAW 14', 14, [V6X, V4]],
    ['raw IPv4', LINKTYPE.IPV4, [V4, TCP4]],
    ['raw IPv6', LINKTYPE.IPV6, [V6, V6X]],
    [
      'BSD loopback, little-endian host',
      LINKTYPE.NULL,
      [
        nullHeader(2, V4, true),
        nullHeader(24, V6, true),
        nullHeader(28, V6, true),
        nullHeader(30, V6X, true),
      ],
    ],
    [
      'BSD loopback, big-endian host',
      LINKTYPE.NULL,
      [nullHeader(2, V4, false), nullHeader(30, V6, false), nullHeader(24, V6X, false)],
    ],
    ['OpenBSD loopback', LINKTYPE.LOOP, [nullHeader(2, V4, false), nullHeader(24, V6, false)]],
  ];
  for (const [name, linkType, frames] of cases) {
    for (const variant of ['little-endian', 'big-endian nanosecond'] as const) {
      test(`${name} (${variant} pcap)`, () => {
        const big = variant !== 'little-endian';
        const file = writeTemp(
          `lt${linkType}-${name.replace(/\W+/g, '-')}-${big ? 'be' : 'le'}.pcap`,
          pcapFile(
            { linkType, bigEndian: big, nanoseconds: big },
            records(frames, 1_700_000_000, big),
          ),
        );
        const { udp } = compareWithTshark(file);
        assert.ok(udp >= 1);
      });
    }
  }

  test('VLAN ids are reported outermost first', () => {
    const r = decodeLink(
      LINKTYPE.ETHERNET,
      ethernet(0x0800, V4, [
        [0x88a8, 200],
        [0x8100, 300],
      ]),
    );
    assert.ok(r.ok);
    assert.deepEqual(r.vlanIds, [200, 300]);
  });

  test('an unknown link type is an error value naming it', () => {
    const file = writeTemp(
      'wifi.pcap',
      pcapFile({ linkType: 105 }, records([new Uint8Array(40), new Uint8Array(50)])),
    );
    const { frames, end } = readCaptureAll(readFileSync(file));
    assert.equal(end.error, undefined);
    assert.equal(frames.length, 2);
    const r = decodeLink(105, frames[0]?.data ?? new Uint8Array());
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.reason === 'unsupported_link_type');
    assert.match(!r.ok ? r.message : '', /LINKTYPE_IEEE802_11 \(105\)/);
    assert.match(!r.ok ? r.message : '', /LINKTYPE_ETHERNET \(1\)/);
    const ex = new UdpExtractor();
    for (const f of frames) assert.equal(ex.push(f), undefined);
    assert.equal(ex.stats().skipped.unsupported_link_type, 2);
    assert.deepEqual(ex.stats().unsupportedLinkTypes, { 105: 2 });
    const other = decodeLink(4242, new Uint8Array(4));
    assert.match(other.ok ? '' : other.message, /^link type 4242 is not supported/);
  });
});

describe('pcapng features (files built here, decoded by tshark)', () => {
  const T = 1_700_000_000n;
  const epb = (iface: number, ts: bigint, data: Uint8Array): PcapngBlock => ({
    type: 'epb',
    iface,
    ts,
    data,
  });

  test('resolutions (10^-3, 10^-6, 10^-9, 2^-20, 2^-32), offsets, both byte orders, several sections', () => {
    const blocks: PcapngBlock[] = [
      { type: 'idb', linkType: LINKTYPE.ETHERNET, tsresol: 3, name: 'ms' },
      { type: 'idb', linkType: LINKTYPE.RAW, name: 'default-us' },
      { type: 'idb', linkType: LINKTYPE.LINUX_SLL, tsresol: 9 },
      { type: 'idb', linkType: LINKTYPE.NULL, tsresol: 0x80 | 20 },
      { type: 'idb', linkType: LINKTYPE.LINUX_SLL2, tsresol: 0x80 | 32, tsoffset: 1_000n },
      { type: 'idb', linkType: LINKTYPE.IPV6, tsresol: 6, tsoffset: T },
      epb(0, T * 1000n + 123n, ethernet(0x0800, V4)),
      epb(1, T * 1_000_000n + 456_789n, V6),
      { type: 'other', blockType: 4, body: new Uint8Array([0, 0, 0, 0]) }, // empty NRB
      epb(2, T * 1_000_000_000n + 987_654_321n, sll(0x86dd, V6X)),
      epb(3, (T << 20n) + 777_777n, nullHeader(2, V4, true)),
      epb(4, ((T - 1_000n) << 32n) + 0x8000_0000n, sll2(0x0800, V4)),
      epb(5, 42_000_001n, V6),
      {
        type: 'other',
        blockType: 5, // Interface Statistics Block
        body: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      },
    ];
    const bytes = pcapngFile([
      { blocks },
      { bigEndian: true, blocks: blocks.filter((b) => b.type !== 'other') },
      {
        blocks: [
          { type: 'idb', linkType: LINKTYPE.IPV4, tsresol: 6 },
          { type: 'pb', iface: 0, ts: T * 1_000_000n + 5n, data: V4 },
          epb(0, T * 1_000_000n + 6n, TCP4),
        ],
      },
    ]);
    const file = writeTemp('features.pcapng', bytes);
    const { frames } = compareWithTshark(file);
    const { end } = readCaptureAll(bytes);
    assert.equal(end.format, 'pcapng');
    assert.equal(end.sections, 3);
    assert.equal(end.interfaces, 13);
    assert.equal(end.skippedBlocks, 2);
    assert.equal(frames.length, 14);
  });

  test('Simple Packet Blocks (no timestamp) and snap length', () => {
    const bytes = pcapngFile([
      {
        blocks: [
          { type: 'idb', linkType: LINKTYPE.ETHERNET, snapLength: 0 },
          { type: 'spb', data: ethernet(0x0800, V4) },
          { type: 'spb', data: ethernet(0x86dd, V6) },
        ],
      },
      {
        bigEndian: true,
        blocks: [
          { type: 'idb', linkType: LINKTYPE.RAW, snapLength: 1000 },
          { type: 'spb', data: V6X },
        ],
      },
    ]);
    const { frames, udp } = compareWithTshark(writeTemp('spb.pcapng', bytes));
    assert.equal(udp, 3);
    assert.ok(frames.every((f) => f.timestampNs === 0n && f.timeMs === 0));
  });
});

// --- damaged files ---------------------------------------------------------------------

/** Block (or record) boundaries, found by walking the length fields independently. */
function boundaries(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  if (detectCaptureFormat(bytes) === 'pcap') {
    const le = v.getUint32(0, true) === 0xa1b2c3d4 || v.getUint32(0, true) === 0xa1b23c4d;
    for (let p = 24; p <= bytes.length; p += 16 + v.getUint32(p + 8, le)) {
      out.push(p);
      if (p + 16 > bytes.length) break;
    }
    return out;
  }
  let le = true;
  for (let p = 0; p < bytes.length; ) {
    if (v.getUint32(p, true) === 0x0a0d0d0a) le = v.getUint32(p + 8, true) === 0x1a2b3c4d;
    p += v.getUint32(p + 4, le);
    out.push(p);
  }
  return out;
}

function sameFrames(a: CaptureFrame[], b: CaptureFrame[]): void {
  assert.equal(a.length, b.length);
  a.forEach((f, i) => {
    const g = b[i] as CaptureFrame;
    assert.equal(f.index, g.index);
    assert.equal(f.timestampNs, g.timestampNs);
    assert.equal(f.linkType, g.linkType);
    assert.equal(f.interfaceId, g.interfaceId);
    assert.equal(f.origLength, g.origLength);
    assert.deepEqual(Uint8Array.from(f.data), Uint8Array.from(g.data));
  });
}

describe('truncated and malformed files', () => {
  const merged = readFileSync(join(AKVORADO, 'netflow', 'nfv5.pcap'));
  const ng = pcapngFile([
    {
      blocks: [
        { type: 'idb', linkType: LINKTYPE.ETHERNET, tsresol: 9 },
        { type: 'epb', iface: 0, ts: 1n, data: ethernet(0x0800, V4) },
        { type: 'other', blockType: 4, body: new Uint8Array(4) },
        // A custom block (type 0xBAD, PEN 32391 then data): skipped. (tshark shows those
        // as frames of their own, so the files compared with tshark hold none.)
        { type: 'other', blockType: 0x00000bad, body: new Uint8Array([0, 0, 0x7e, 0x87, 1, 2, 3]) },
        { type: 'epb', iface: 0, ts: 2n, data: ethernet(0x86dd, V6), comment: 'with options' },
      ],
    },
    {
      bigEndian: true,
      blocks: [
        { type: 'idb', linkType: LINKTYPE.RAW },
        { type: 'spb', data: V4 },
        { type: 'pb', iface: 0, ts: 3n, data: V6X },
      ],
    },
  ]);
  const smallPcap = pcapFile({ linkType: LINKTYPE.RAW }, records([V4, V6, V6X, TCP4]));

  for (const [name, bytes] of [
    ['pcap (nfv5)', merged],
    ['pcap built here', smallPcap],
    ['pcapng built here', ng],
  ] as const) {
    test(`${name}: cut at every offset, frames before the cut and an error saying where`, () => {
      const full = readCaptureAll(bytes);
      assert.equal(full.end.error, undefined);
      if (name.startsWith('pcapng')) assert.equal(full.end.skippedBlocks, 2);
      const bounds = boundaries(bytes);
      assert.equal(bounds.at(-1), bytes.length);
      for (let cut = 0; cut < bytes.length; cut++) {
        const { frames, end } = readCaptureAll(bytes.subarray(0, cut));
        const start = Math.max(0, ...bounds.filter((b) => b <= cut));
        const complete = full.frames.filter((f) => {
          const dataEnd = f.data.byteOffset - bytes.byteOffset + f.data.length;
          return dataEnd <= start;
        });
        sameFrames(frames, complete);
        assert.equal(end.frames, frames.length);
        if (cut > 0 && bounds.includes(cut)) {
          assert.equal(end.error, undefined, `cut ${cut}`);
          assert.equal(end.bytesRead, cut);
        } else {
          assert.equal(end.error?.reason, 'truncated', `cut ${cut}`);
          assert.equal(end.error?.offset, start, `cut ${cut}`);
          assert.equal(end.bytesRead, start);
          assert.match(
            end.error?.message ?? '',
            cut === 0 ? /empty/ : new RegExp(`at byte ${start}`),
          );
        }
        // The streaming parser, fed the cut file in 3 pieces, agrees.
        const p = new CaptureStreamParser();
        const got = [
          ...p.push(bytes.subarray(0, cut >> 1)),
          ...p.push(bytes.subarray(cut >> 1, cut - (cut >> 2))),
          ...p.push(bytes.subarray(cut - (cut >> 2), cut)),
        ];
        sameFrames(got, frames);
        assert.deepEqual(p.end(), end);
      }
    });
  }

  test('not a capture: an error naming what was found', () => {
    const { frames, end } = readCaptureAll(new TextEncoder().encode('GET / HTTP/1.1\r\n'));
    assert.equal(frames.length, 0);
    assert.equal(end.format, 'unknown');
    assert.equal(end.error?.reason, 'unknown_format');
    assert.match(end.error?.message ?? '', /0x47455420/);
  });

  test('pcapng block whose trailing length disagrees', () => {
    const bad = ng.slice();
    const b = boundaries(ng);
    const second = b[1] as number; // end of the first IDB = start of the first EPB
    const epbEnd = b[2] as number;
    bad[epbEnd - 4] = (bad[epbEnd - 4] as number) ^ 0x10; // trailer of the first EPB
    const { frames, end } = readCaptureAll(bad);
    assert.equal(frames.length, 0);
    assert.equal(end.error?.reason, 'bad_length');
    assert.equal(end.bytesRead, second);
    assert.match(end.error?.message ?? '', /Enhanced Packet Block/);
  });

  test('pcapng packet naming an interface the section lacks', () => {
    const bytes = pcapngFile([
      {
        blocks: [
          { type: 'idb', linkType: LINKTYPE.RAW },
          { type: 'epb', iface: 0, ts: 1n, data: V4 },
          { type: 'epb', iface: 1, ts: 2n, data: V4 },
        ],
      },
    ]);
    const { frames, end } = readCaptureAll(bytes);
    assert.equal(frames.length, 1);
    assert.match(end.error?.message ?? '', /interface 1, the section has 1/);
  });

  test('a length beyond the limit stops the read instead of buffering', () => {
    const bytes = smallPcap.slice();
    new DataView(bytes.buffer).setUint32(24 + 8, 0x7fff_ffff, true);
    const p = new CaptureStreamParser({ maxBlockBytes: 1 << 20 });
    assert.deepEqual(p.push(bytes), []);
    const end = p.end();
    assert.equal(end.error?.reason, 'bad_length');
    assert.equal(end.error?.offset, 24);
  });

  test('pcap of an unknown major version', () => {
    const bytes = smallPcap.slice();
    new DataView(bytes.buffer).setUint16(4, 3, true);
    const { frames, end } = readCaptureAll(bytes);
    assert.equal(frames.length, 0);
    assert.equal(end.error?.reason, 'unknown_version');
  });
});

describe('streaming', () => {
  test('any chunking gives the same frames as reading the whole file', () => {
    const file = join(TMP, 'stream.pcapng');
    tool('mergecap', '-F', 'pcapng', '-w', file, ...akvorado.slice(0, 20));
    const bytes = readFileSync(file);
    const whole = readCaptureAll(bytes);
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (const maxChunk of [1, 2, 7, 13, 100, 1500, 65536]) {
      const p = new CaptureStreamParser();
      const got: CaptureFrame[] = [];
      for (let pos = 0; pos < bytes.length; ) {
        const n = 1 + rand(maxChunk);
        // A fresh copy per chunk, as a file stream hands them out.
        got.push(...p.push(bytes.slice(pos, pos + n)));
        pos += n;
      }
      sameFrames(got, whole.frames);
      assert.deepEqual(p.end(), whole.end);
      assert.equal(p.format, 'pcapng');
    }
  });

  test('pushTo (no frame objects) gives what push gives, for every format, from a reused buffer', () => {
    const files: string[] = [];
    const base = join(TMP, 'sink.pcap');
    tool('mergecap', '-a', '-F', 'pcap', '-w', base, ...akvorado.slice(0, 30));
    files.push(base);
    for (const [name, fmt] of [
      ['ns', 'nsecpcap'],
      ['mod', 'modpcap'],
      ['ng', 'pcapng'],
    ] as const) {
      const out = join(TMP, `sink-${name}.cap`);
      tool('editcap', '-F', fmt, base, out);
      files.push(out);
    }
    const bigEndian = join(TMP, 'sink-be.pcap');
    writeFileSync(
      bigEndian,
      pcapFile({ linkType: LINKTYPE.RAW, bigEndian: true }, [
        ...records([V4, V6]),
        { sec: 1_700_000_001, frac: 999_999, data: V4, origLength: 1000 },
      ]),
    );
    files.push(bigEndian);
    let seed = 777;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (const file of files) {
      const bytes = readFileSync(file);
      // Cut short too: the end must report the same truncation.
      for (const input of [bytes, bytes.subarray(0, bytes.length - 5)]) {
        const whole = readCaptureAll(input);
        for (const maxChunk of [3, 100, 4096, 1 << 20]) {
          const p = new CaptureStreamParser();
          const got: [number, string, number, number][] = [];
          const sink = {
            frame(lt: number, b: Uint8Array, off: number, n: number, orig: number, t: number) {
              got.push([lt, Buffer.from(b.subarray(off, off + n)).toString('hex'), orig, t]);
            },
          };
          const reused = new Uint8Array(maxChunk);
          for (let pos = 0; pos < input.length; ) {
            const n = Math.min(1 + rand(maxChunk), input.length - pos);
            reused.set(input.subarray(pos, pos + n));
            p.pushTo(reused.subarray(0, n), sink);
            reused.fill(0xee); // whatever the parser kept of it must have been copied
            pos += n;
          }
          const want = whole.frames.map((f) => [
            f.linkType,
            Buffer.from(f.data).toString('hex'),
            f.origLength,
            f.timeMs,
          ]);
          assert.deepEqual(got, want, `${file}, chunks up to ${maxChunk}`);
          assert.deepEqual(p.end(), whole.end);
        }
      }
    }
  });

  test('frames from whole chunks are views into them, not copies', () => {
    const bytes = pcapFile({ linkType: LINKTYPE.RAW }, records([V4, V6]));
    const p = new CaptureStreamParser();
    const frames = p.push(bytes);
    assert.equal(frames.length, 2);
    assert.ok(frames.every((f) => f.data.buffer === bytes.buffer));
  });
});
