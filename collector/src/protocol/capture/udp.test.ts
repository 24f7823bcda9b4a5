// UDP extraction and IP fragment reassembly. Fragmented datagrams are built here, written
// as a capture, and reassembled both by tshark and by us: the frames where a datagram
// completes, its addresses, ports, UDP length and payload bytes must agree with tshark's,
// and the payload must equal the one that was cut up.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tsharkFields } from '@sluice/testkit';
import {
  type CaptureFrame,
  LINKTYPE,
  readCaptureAll,
  type UdpDatagram,
  UdpExtractor,
} from './index.js';
import {
  concat,
  ethernet,
  fragment4,
  fragment6,
  ipv4Packet,
  ipv6FragmentHeader,
  ipv6Options,
  ipv6Packet,
  parseIpv4,
  parseIpv6,
  pcapFile,
  udp4,
  udp6,
  udpSegment,
} from './testing.js';

const TMP = mkdtempSync(join(tmpdir(), 'sluice-udp-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}

const eth4 = (p: Uint8Array) => ethernet(0x0800, p);
const eth6 = (p: Uint8Array) => ethernet(0x86dd, p);

/** Frames (as the extractor wants them) at 1 s intervals from t0 (ms). */
function frames(datas: Uint8Array[], t0 = 1_700_000_000_000, stepMs = 1000): CaptureFrame[] {
  return datas.map((data, index) => {
    const timeMs = t0 + index * stepMs;
    return {
      index,
      interfaceId: 0,
      timeMs,
      timestampNs: BigInt(timeMs) * 1_000_000n,
      linkType: LINKTYPE.ETHERNET,
      data,
      origLength: data.length,
    };
  });
}

function run(ex: UdpExtractor, fs: CaptureFrame[]): UdpDatagram[] {
  const out: UdpDatagram[] = [];
  for (const f of fs) {
    const d = ex.push(f);
    if (d) out.push(d);
  }
  return out;
}

/** Every frame counted exactly once: as a datagram, a fragment, or a skip. */
function assertAccounting(ex: UdpExtractor): void {
  const s = ex.stats();
  const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  assert.equal(s.frames, s.datagrams - s.reassembled + s.fragments + skipped);
}

// A: IPv4, 4000 bytes of payload in three fragments, delivered 3rd, 1st, 2nd.
const A_PAYLOAD = bytes(4000, 1);
const A_IP = { src: '192.0.2.10', dst: '192.0.2.20', id: 0x1234 };
const A = fragment4(
  A_IP,
  udpSegment(parseIpv4(A_IP.src), parseIpv4(A_IP.dst), 40000, 40001, A_PAYLOAD),
  1480,
);
// B: same addresses, another id, 2000 bytes in 600-byte fragments, reversed, with a
// duplicate of one fragment before the datagram completes.
const B_PAYLOAD = bytes(2000, 2);
const B_IP = { src: '192.0.2.10', dst: '192.0.2.20', id: 0x1235 };
const B = fragment4(
  B_IP,
  udpSegment(parseIpv4(B_IP.src), parseIpv4(B_IP.dst), 40002, 40003, B_PAYLOAD),
  600,
);
// C: IPv6 with a hop-by-hop header (unfragmentable) and a destination options header
// (fragmentable, so inside the reassembled payload), 3000 bytes in 1232-byte fragments.
const C_PAYLOAD = bytes(3000, 3);
const C_SRC = '2001:db8::10';
const C_DST = '2001:db8::20';
const C = fragment6(
  C_SRC,
  C_DST,
  60,
  concat(ipv6Options(17), udpSegment(parseIpv6(C_SRC), parseIpv6(C_DST), 40004, 40005, C_PAYLOAD)),
  1232,
  0xdeadbeef,
  { first: 0, headers: ipv6Options(44) },
);
// D: an IPv6 atomic fragment (offset 0, M clear).
const D_PAYLOAD = bytes(100, 4);
const D = ipv6Packet(
  C_SRC,
  C_DST,
  44,
  concat(
    ipv6FragmentHeader(17, 0, false, 7),
    udpSegment(parseIpv6(C_SRC), parseIpv6(C_DST), 40006, 40007, D_PAYLOAD),
  ),
);
// E: a fragmented TCP segment (not UDP, never held).
const E = [
  ipv4Packet({ ...A_IP, id: 9, protocol: 6, moreFragments: true }, bytes(16, 5)),
  ipv4Packet({ ...A_IP, id: 9, protocol: 6, fragmentOffset: 16 }, bytes(16, 6)),
];
const PLAIN = udp4('192.0.2.1', '192.0.2.2', 40008, 40009, bytes(50, 7));

describe('fragment reassembly, checked against tshark', () => {
  const sequence = [
    eth4(A[2] as Uint8Array),
    eth4(B[3] as Uint8Array),
    eth6(C[2] as Uint8Array),
    eth4(PLAIN),
    eth4(A[0] as Uint8Array),
    eth4(B[2] as Uint8Array),
    eth4(B[2] as Uint8Array), // duplicate
    eth6(C[0] as Uint8Array),
    eth4(E[0] as Uint8Array),
    eth4(B[1] as Uint8Array),
    eth6(D),
    eth4(A[1] as Uint8Array), // A complete
    eth4(E[1] as Uint8Array),
    eth6(C[1] as Uint8Array), // C complete
    eth4(B[0] as Uint8Array), // B complete
  ];
  const expectedPayload: Record<number, Uint8Array> = {
    40000: A_PAYLOAD,
    40002: B_PAYLOAD,
    40004: C_PAYLOAD,
    40006: D_PAYLOAD,
    40008: bytes(50, 7),
  };

  test('out-of-order IPv4 and IPv6 fragments: same datagrams as tshark, original payloads', () => {
    assert.equal(A.length, 3);
    assert.equal(B.length, 4);
    assert.equal(C.length, 3);
    const file = join(TMP, 'fragments.pcap');
    writeFileSync(
      file,
      pcapFile(
        { linkType: LINKTYPE.ETHERNET },
        sequence.map((data, i) => ({ sec: 1_700_000_000 + i, frac: 0, data })),
      ),
    );
    const rows = tsharkFields(file, [
      'frame.number',
      'ip.src',
      'ip.dst',
      'ipv6.src',
      'ipv6.dst',
      'udp.srcport',
      'udp.dstport',
      'udp.length',
      'udp.payload',
    ]).filter((r) => r[5] !== '');
    const { frames: fs, end } = readCaptureAll(readFileSync(file));
    assert.equal(end.error, undefined);
    const ex = new UdpExtractor();
    const got = run(ex, fs);
    assert.equal(got.length, rows.length, JSON.stringify(ex.stats()));
    assert.equal(got.length, 5);
    got.forEach((d, i) => {
      const [frame, ipSrc, ipDst, ip6Src, ip6Dst, sport, dport, ulen, payloadHex] = rows[
        i
      ] as string[];
      assert.equal(d.frameIndex + 1, Number(frame), 'completing frame');
      assert.equal(d.src, d.ipVersion === 4 ? ipSrc : ip6Src);
      assert.equal(d.dst, d.ipVersion === 4 ? ipDst : ip6Dst);
      assert.equal(d.srcPort, Number(sport));
      assert.equal(d.dstPort, Number(dport));
      assert.equal(d.payload.length + 8, Number(ulen));
      assert.deepEqual(
        Uint8Array.from(d.payload),
        Uint8Array.from(Buffer.from(payloadHex ?? '', 'hex')),
      );
      assert.deepEqual(Uint8Array.from(d.payload), expectedPayload[d.srcPort]);
      assert.equal(d.timestampNs, fs[d.frameIndex]?.timestampNs);
    });
    assert.deepEqual(
      got.map((d) => d.fragments),
      [1, 1, 3, 3, 4],
    );
    const s = ex.stats();
    assert.equal(s.reassembled, 3);
    assert.equal(s.duplicateFragments, 1);
    assert.equal(s.fragments, 11);
    assert.equal(s.skipped.not_udp, 2);
    assert.equal(s.pendingDatagrams, 0);
    assert.equal(s.pendingBytes, 0);
    assertAccounting(ex);
  });

  test('any delivery order reassembles the same datagram', () => {
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      const ex = new UdpExtractor();
      const got = run(ex, frames(order.map((i) => eth6(C[i] as Uint8Array))));
      assert.equal(got.length, 1);
      assert.deepEqual(Uint8Array.from(got[0]?.payload ?? []), C_PAYLOAD);
      assert.equal(got[0]?.frameIndex, 2);
    }
  });
});

describe('reassembly safety and limits', () => {
  test('overlapping fragments with other contents abandon the datagram', () => {
    const bad = (B[1] as Uint8Array).slice();
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    const ex = new UdpExtractor();
    const got = run(ex, frames([B[0], B[1], bad, B[2], B[3]].map((p) => eth4(p as Uint8Array))));
    assert.deepEqual(got, []);
    const s = ex.stats();
    assert.equal(s.abandoned.overlap, 1);
    assert.equal(s.pendingBytes, 0);
    assertAccounting(ex);
  });

  test('a fragment straddling two others is an overlap', () => {
    const seg = udpSegment(parseIpv4(A_IP.src), parseIpv4(A_IP.dst), 1, 2, bytes(40, 9));
    const f = (off: number, len: number, more: boolean) =>
      eth4(
        ipv4Packet(
          { ...A_IP, fragmentOffset: off, moreFragments: more },
          seg.subarray(off, off + len),
        ),
      );
    const ex = new UdpExtractor();
    assert.deepEqual(run(ex, frames([f(0, 16, true), f(32, 16, false), f(8, 32, true)])), []);
    assert.equal(ex.stats().abandoned.overlap, 1);
    // Later fragments of the abandoned datagram are absorbed, not restarted.
    assert.deepEqual(run(ex, frames([f(16, 16, true)], 1_700_000_003_000)), []);
    assert.equal(ex.stats().abandoned.overlap, 1);
    assert.equal(ex.stats().pendingBytes, 0);
  });

  test('fragments disagreeing on the end abandon the datagram', () => {
    const seg = udpSegment(parseIpv4(A_IP.src), parseIpv4(A_IP.dst), 1, 2, bytes(40, 9));
    const f = (off: number, len: number, more: boolean) =>
      eth4(
        ipv4Packet(
          { ...A_IP, fragmentOffset: off, moreFragments: more },
          seg.subarray(off, off + len),
        ),
      );
    const ex = new UdpExtractor();
    // Last fragment says 32, a second last fragment says 48.
    assert.deepEqual(run(ex, frames([f(0, 16, true), f(24, 8, false), f(32, 16, false)])), []);
    assert.equal(ex.stats().abandoned.inconsistent, 1);
    // A fragment beyond the known end (another datagram id).
    const g = (off: number, len: number, more: boolean) =>
      eth4(
        ipv4Packet(
          { ...A_IP, id: 77, fragmentOffset: off, moreFragments: more },
          seg.subarray(off, off + len),
        ),
      );
    assert.deepEqual(run(ex, frames([g(24, 8, false), g(32, 16, true)])), []);
    assert.equal(ex.stats().abandoned.inconsistent, 2);
  });

  test('misaligned and oversized fragments are dropped', () => {
    const ex = new UdpExtractor();
    run(
      ex,
      frames([
        eth4(ipv4Packet({ ...A_IP, moreFragments: true }, bytes(13, 1))),
        eth4(ipv4Packet({ ...A_IP, fragmentOffset: 65528 }, bytes(16, 1))),
        eth6(
          ipv6Packet(C_SRC, C_DST, 44, concat(ipv6FragmentHeader(17, 8, true, 1), bytes(12, 1))),
        ),
      ]),
    );
    assert.equal(ex.stats().skipped.bad_fragment, 3);
    assert.equal(ex.stats().pendingDatagrams, 0);
    assertAccounting(ex);
  });

  test('a datagram not completed in time is abandoned (capture time)', () => {
    const ex = new UdpExtractor({ reassemblyTimeoutMs: 30_000 });
    const fs = frames(
      [eth4(A[0] as Uint8Array), eth4(A[1] as Uint8Array), eth4(A[2] as Uint8Array)],
      0,
      16_000,
    );
    assert.deepEqual(run(ex, fs), []);
    assert.equal(ex.stats().abandoned.timeout, 1);
    // Within the limit, the same fragments reassemble.
    const ex2 = new UdpExtractor({ reassemblyTimeoutMs: 30_000 });
    assert.equal(run(ex2, frames(A.map(eth4), 0, 14_000)).length, 1);
  });

  test('at most maxPendingDatagrams are held; the oldest goes first', () => {
    const ex = new UdpExtractor({ maxPendingDatagrams: 2 });
    const first = (id: number) =>
      eth4(ipv4Packet({ ...A_IP, id, moreFragments: true }, (A[0] as Uint8Array).subarray(20)));
    const last = (id: number) =>
      eth4(ipv4Packet({ ...A_IP, id, fragmentOffset: 1480 }, bytes(8, 1)));
    assert.deepEqual(run(ex, frames([first(1), first(2), first(3)])), []);
    let s = ex.stats();
    assert.equal(s.abandoned.max_pending, 1);
    assert.equal(s.pendingDatagrams, 2);
    assert.equal(s.pendingBytes, 2 * 1480);
    // id 1 was evicted: its last fragment starts a new, incomplete datagram (evicting 2).
    assert.deepEqual(run(ex, frames([last(1)])), []);
    s = ex.stats();
    assert.equal(s.abandoned.max_pending, 2);
    assertAccounting(ex);
  });

  test('at most maxPendingBytes are held', () => {
    const ex = new UdpExtractor({ maxPendingBytes: 100_000 });
    const big = (id: number, off: number) =>
      eth4(ipv4Packet({ ...A_IP, id, fragmentOffset: off, moreFragments: true }, bytes(1480, id)));
    const fs: Uint8Array[] = [];
    for (let id = 1; id <= 3; id++) for (let k = 0; k < 30; k++) fs.push(big(id, k * 1480));
    run(ex, frames(fs, 0, 1));
    const s = ex.stats();
    assert.ok(s.pendingBytes <= 100_000, `${s.pendingBytes}`);
    assert.ok(s.abandoned.max_bytes >= 1);
    assertAccounting(ex);
  });

  test('flush gives up what is pending', () => {
    const ex = new UdpExtractor();
    run(ex, frames([eth4(A[0] as Uint8Array)]));
    ex.flush();
    assert.equal(ex.stats().abandoned.timeout, 1);
    assert.equal(ex.stats().pendingDatagrams, 0);
  });
});

describe('undecodable packets are counted, never thrown', () => {
  test('reasons', () => {
    const v4 = udp4('10.0.0.1', '10.0.0.2', 1, 2, bytes(20, 1));
    const badVersion = v4.slice();
    badVersion[0] = 0x55;
    const shortUdp = v4.slice();
    shortUdp[24] = 0;
    shortUdp[25] = 4; // UDP length 4
    const longUdp = v4.slice();
    longUdp[25] = 200; // UDP length beyond the packet
    const ex = new UdpExtractor();
    const got = run(
      ex,
      frames([
        eth4(v4.subarray(0, 30)), // cut by the snap length
        eth4(badVersion),
        eth4(shortUdp),
        eth4(longUdp),
        ethernet(0x8847, bytes(40, 1)), // MPLS
        eth4(new Uint8Array(0)),
        eth6(udp6('::1', '::2', 1, 2, bytes(8, 1)).subarray(0, 39)),
        eth6(ipv6Packet('::1', '::2', 50, bytes(40, 1))), // ESP
        eth6(ipv6Packet('::1', '::2', 59, new Uint8Array(0))), // no next header
        new Uint8Array(5), // shorter than an Ethernet header
      ]),
    );
    assert.deepEqual(got, []);
    assert.deepEqual(ex.stats().skipped, {
      unsupported_link_type: 0,
      not_ip: 1,
      not_udp: 2,
      truncated: 4,
      bad_ip_header: 1,
      bad_udp_header: 2,
      bad_fragment: 0,
    });
    assertAccounting(ex);
  });

  test('Ethernet padding after a short IP packet is not payload', () => {
    const small = udp4('10.0.0.1', '10.0.0.2', 1, 2, bytes(2, 1));
    const padded = concat(eth4(small), new Uint8Array(60 - 14 - small.length));
    const [d] = run(new UdpExtractor(), frames([padded]));
    assert.equal(d?.payload.length, 2);
  });
});
