import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  needServer,
  PCAPS_DIR,
  type TsharkLayers,
  tsharkPackets,
  tsharkPath,
} from '@sluice/testkit';
import fc from 'fast-check';
import { fuzzRuns } from '../../../test/support/fuzz.js';
import { createPacketHeaders, type FirstLayer, type PacketHeaders, parsePacket } from './index.js';
import { type PcapPacket, readPcap, writePcap } from './pcap.test-helpers.js';
import {
  compareLayers,
  isTruncated,
  ourLayers,
  tsharkLayers,
} from './tshark-compare.test-helpers.js';

const ENCAP = join(PCAPS_DIR, 'akvorado', 'encap');
const tmp = mkdtempSync(join(tmpdir(), 'sluice-packet-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * tshark cannot tell from the wire whether an MPLS payload starting with nibble 0 is a
 * pseudowire control word or a bare Ethernet frame (its heuristic says bare): these two
 * captures are Ethernet over MPLS with a control word, so tshark is told so by label.
 */
const EOMPLS_DECODE_AS = ['mpls.label==17,pwethcw', 'mpls.label==100,pwethcw'];
const decodeAsFor = (file: string) => (file.includes('eompls') ? EOMPLS_DECODE_AS : []);

function captures(): string[] {
  return readdirSync(ENCAP)
    .filter((f) => f.endsWith('.pcap'))
    .sort();
}

/**
 * Runs tshark over `packets` written to a temporary pcap. IP reassembly is off: a first
 * fragment then shows its transport header, as a flow decoder reads it (tshark would
 * otherwise wait for the other fragments and show none).
 */
function tshark(name: string, packets: readonly PcapPacket[], decodeAs: string[] = []) {
  const file = join(tmp, `${name}.pcap`);
  writeFileSync(file, writePcap(packets));
  const args = ['-r', file, '-T', 'json', '--no-duplicate-keys'];
  args.push('-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE');
  for (const d of decodeAs) args.push('-d', d);
  const out = execFileSync(tsharkPath(), args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as { _source: { layers: TsharkLayers } }[]).map((p) => p._source.layers);
}

function assertLikeTshark(label: string, layers: TsharkLayers, h: PacketHeaders): void {
  const diff = compareLayers(tsharkLayers(layers), ourLayers(h), isTruncated(h));
  assert.deepEqual(diff, [], `${label}: ${diff.join('; ')}`);
}

test('every encapsulation capture decodes like tshark, layer by layer', async (t) => {
  const files = captures();
  assert.ok(files.length >= 14, `captures in ${ENCAP}`);
  for (const file of files) {
    const path = join(ENCAP, file);
    const layers = await needServer(t, async () =>
      tsharkPackets(path, { decodeAs: decodeAsFor(file) }),
    );
    if (layers === undefined) return;
    const records = readPcap(readFileSync(path));
    assert.equal(records.length, layers.length, file);
    records.forEach((r, i) => {
      const h = parsePacket(r.data, 'ethernet');
      assert.equal(h.truncatedAt, undefined, `${file}#${i} truncated`);
      assertLikeTshark(`${file}#${i}`, layers[i] as TsharkLayers, h);
    });
  }
});

test('the encapsulations land where documented (outer fields primary, tunnel in inner)', () => {
  const first = (file: string) => {
    const r = readPcap(readFileSync(join(ENCAP, file)))[0];
    assert.ok(r);
    return parsePacket(r.data, 'ethernet');
  };
  // Values below were checked against `tshark -r FILE -V` by the test above; here they
  // pin the shape: which level holds what.
  const gre = first('gre-v4-key.pcap');
  assert.equal(gre.protocol, 47);
  assert.equal(gre.encapsulation, 'gre');
  assert.equal(gre.srcPort, undefined);
  assert.equal(gre.inner?.srcAddr, '192.168.1.101');
  assert.equal(gre.inner?.icmpType, 8);

  const eompls = first('mpls-eompls-cw.pcap');
  assert.deepEqual(eompls.mplsLabels, [300012, 17]);
  assert.equal(eompls.pwControlWord, 0);
  assert.equal(eompls.encapsulation, 'eompls');
  assert.equal(eompls.ipVersion, undefined);
  assert.equal(eompls.inner?.dstMac, '02:00:00:00:00:03');
  assert.equal(eompls.inner?.srcAddr, '10.31.0.1');

  const nibble = first('mpls-invalid-nibble.pcap');
  assert.deepEqual(nibble.mplsLabels, [100]);
  assert.equal(nibble.inner, undefined);
  assert.equal(nibble.pwControlWord, undefined);

  const srv6 = first('srv6-end-dt6.pcap');
  assert.deepEqual(srv6.ipv6ExtHeaders, [43]);
  assert.deepEqual(srv6.srv6Segments, ['f2::', 'f1::']);
  assert.equal(srv6.protocol, 41);
  assert.equal(srv6.encapsulation, 'ipip');
  assert.equal(srv6.inner?.dstAddr, 'b::2');

  const nested = first('vlan-ipv6.pcap');
  assert.deepEqual(nested.vlanIds, [100]);
  assert.equal(nested.inner?.encapsulation, 'gre');
  assert.equal(nested.inner?.greProtocol, 0x880b);
  assert.equal(nested.inner?.inner?.dstPort, 53);
});

test('every capture cut at every byte decodes like tshark sees the cut frame', async (t) => {
  for (const group of [false, true]) {
    const files = captures().filter((f) => f.includes('eompls') === group);
    const packets: PcapPacket[] = [];
    for (const file of files) {
      for (const r of readPcap(readFileSync(join(ENCAP, file)))) {
        for (let n = 0; n <= r.data.length; n++) {
          packets.push({ data: r.data.subarray(0, n), origLen: r.data.length });
        }
      }
    }
    const layers = await needServer(t, async () =>
      tshark(`cuts-${group}`, packets, group ? EOMPLS_DECODE_AS : []),
    );
    if (layers === undefined) return;
    assert.equal(layers.length, packets.length);
    const reused = createPacketHeaders();
    packets.forEach((p, i) => {
      const h = parsePacket(p.data, 'ethernet');
      assertLikeTshark(`cut at ${p.data.length}`, layers[i] as TsharkLayers, h);
      // Reusing one result object gives exactly the fresh result.
      assert.deepEqual(parsePacket(p.data, 'ethernet', reused), h);
    });
  }
});

// --- synthetic packets for what the captures do not carry ---------------------------

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replaceAll(' ', ''), 'hex'));
}

const u16 = (n: number) => hex(n.toString(16).padStart(4, '0'));

const eth = (type: number) => cat(hex('020000000001 020000000002'), u16(type));
const tag = (tci: number, type: number) => cat(u16(tci), u16(type));

function ipv4(
  proto: number,
  payload: Uint8Array,
  o: { tos?: number; frag?: number; opts?: Uint8Array } = {},
) {
  const opts = o.opts ?? new Uint8Array(0);
  const ihl = 5 + opts.length / 4;
  const total = ihl * 4 + payload.length;
  return cat(
    hex(`4${ihl.toString(16)}`),
    hex((o.tos ?? 0).toString(16).padStart(2, '0')),
    u16(total),
    u16(0x1234),
    u16(o.frag ?? 0x4000),
    hex('40'),
    hex(proto.toString(16).padStart(2, '0')),
    hex('0000 c0000201 c6336402'),
    opts,
    payload,
  );
}

function ipv6(next: number, payload: Uint8Array, tc = 0) {
  const first = (0x6 << 28) | (tc << 20) | 0x12345;
  return cat(
    hex(first.toString(16).padStart(8, '0')),
    u16(payload.length),
    hex(next.toString(16).padStart(2, '0')),
    hex('39'),
    hex('20010db8000000000000000000000001 20010db80000000000000000000000ff'),
    payload,
  );
}

const tcp = (flags: number) =>
  cat(hex('d431 0050 00000001 00000000'), u16(0x5000 | flags), hex('ffff 0000 0000'));
const udp = (src: number, dst: number, payload: Uint8Array) =>
  cat(u16(src), u16(dst), u16(8 + payload.length), hex('0000'), payload);
const icmp = hex('0303 0000 00000000');
const icmpv6 = hex('8000 0000 0001 0002');

/** [name, bytes] pairs covering layers and options the captures lack. */
function synthetic(): [string, Uint8Array][] {
  const inner = cat(eth(0x86dd), ipv6(58, icmpv6));
  return [
    [
      '802.1ad + 802.1Q, TCP with NS/CWR/ECE/SYN',
      cat(eth(0x88a8), tag(0xa00a, 0x8100), tag(0x2014, 0x0800), ipv4(6, tcp(0x1c2))),
    ],
    [
      'old QinQ 0x9100',
      cat(
        eth(0x9100),
        tag(0x0123, 0x8100),
        tag(0x0456, 0x0800),
        ipv4(17, udp(53, 1053, hex('00'))),
      ),
    ],
    [
      'IPv4 options, ECN',
      cat(
        eth(0x0800),
        ipv4(17, udp(1, 2, hex('aabb')), { tos: 0xb9, opts: hex('94040000 01010100') }),
      ),
    ],
    ['IPv4 first fragment', cat(eth(0x0800), ipv4(6, tcp(0x10), { frag: 0x2000 }))],
    ['IPv4 later fragment', cat(eth(0x0800), ipv4(6, tcp(0x10), { frag: 0x00b9 }))],
    [
      'ICMP destination unreachable',
      cat(eth(0x0800), ipv4(1, cat(icmp, ipv4(17, udp(3, 4, hex('')))))),
    ],
    [
      'IPv6 hop-by-hop + destination options + fragment + TCP',
      cat(
        eth(0x86dd),
        ipv6(
          0,
          cat(
            hex('3c00 010400000000'),
            hex('2c01 0000000000000000 0000 00000000'),
            hex('0600 0001 0000abcd'),
            tcp(0x18),
          ),
          0x2e,
        ),
      ),
    ],
    [
      'IPv6 AH + UDP',
      cat(
        eth(0x86dd),
        ipv6(
          51,
          cat(
            hex('1104 0000 00000100 00000007 0102030405060708 090a0b0c'),
            udp(500, 4500, hex('01020304')),
          ),
        ),
      ),
    ],
    [
      'IPv6 later fragment',
      cat(eth(0x86dd), ipv6(44, cat(hex('0600 05a9 0000abcd'), hex('00000000 00000000')))),
    ],
    [
      'GRE checksum + key + sequence, Ethernet (0x6558)',
      cat(
        eth(0x0800),
        ipv4(
          47,
          cat(
            hex('b000 6558 0000 0000 0000002a 00000007'),
            eth(0x0800),
            ipv4(17, udp(68, 67, hex('01'))),
          ),
        ),
      ),
    ],
    [
      'GRE with MPLS',
      cat(eth(0x0800), ipv4(47, cat(hex('0000 8847 00064140'), ipv4(6, tcp(0x11))))),
    ],
    [
      'VXLAN to IPv6/ICMPv6',
      cat(eth(0x0800), ipv4(17, udp(49152, 4789, cat(hex('08000000 00138800'), inner)))),
    ],
    [
      'MPLS multicast, explicit null IPv6 below a label',
      cat(eth(0x8848), hex('00064040 00002140'), ipv6(17, udp(9, 10, hex('')))),
    ],
    ['ICMPv6 in IPv6 in IPv4 (41)', cat(eth(0x0800), ipv4(41, ipv6(58, icmpv6)))],
  ];
}

test('synthetic packets (QinQ, options, fragments, extension headers, GRE, VXLAN) decode like tshark', async (t) => {
  const cases = synthetic();
  const layers = await needServer(t, async () =>
    tshark(
      'synthetic',
      cases.map(([, data]) => ({ data })),
    ),
  );
  if (layers === undefined) return;
  cases.forEach(([name, data], i) => {
    const h = parsePacket(data, 'ethernet');
    assert.equal(h.truncatedAt, undefined, name);
    assertLikeTshark(name, layers[i] as TsharkLayers, h);
  });
  // Spot checks of fields the layer comparison does not name.
  const byName = new Map(cases.map(([n, d]) => [n, parsePacket(d, 'ethernet')]));
  const qinq = byName.get('802.1ad + 802.1Q, TCP with NS/CWR/ECE/SYN');
  assert.deepEqual(qinq?.vlanTpids, [0x88a8, 0x8100]);
  assert.equal(qinq?.tcpFlags, 0x1c2);
  const later = byName.get('IPv6 later fragment');
  assert.equal(later?.fragmentOffset, 0x05a9 >> 3);
  assert.equal(later?.moreFragments, true);
  assert.equal(later?.srcPort, undefined);
  const v4later = byName.get('IPv4 later fragment');
  assert.equal(v4later?.fragmentOffset, 0xb9);
  assert.equal(v4later?.srcPort, undefined);
  const opts = byName.get('IPv4 options, ECN');
  assert.equal(opts?.ipHeaderLength, 28);
  assert.equal(opts?.dscp, 0xb9 >> 2);
  assert.equal(opts?.ecn, 1);
  const vx = byName.get('VXLAN to IPv6/ICMPv6');
  assert.equal(vx?.vxlanVni, 0x1388);
  assert.equal(vx?.inner?.icmpType, 128);
});

test('IPv4 and IPv6 as the first layer (sFlow header protocols 11 and 12)', () => {
  const v4 = parsePacket(ipv4(6, tcp(0x02)), 'ipv4');
  assert.equal(v4.srcMac, undefined);
  assert.equal(v4.dstAddr, '198.51.100.2');
  assert.equal(v4.dstPort, 80);
  const v6 = parsePacket(ipv6(17, udp(5353, 5353, hex('00'))), 'ipv6');
  assert.equal(v6.srcAddr, '2001:db8::1');
  assert.equal(v6.udpLength, 9);
  const mpls = parsePacket(cat(hex('00010140'), ipv4(17, udp(1, 2, hex('')))), 'mpls');
  assert.deepEqual(mpls.mplsLabels, [16]);
  assert.equal(mpls.ipVersion, 4);
});

test('limits: VLAN tags, MPLS labels, IPv6 extension headers and tunnel depth are capped', () => {
  const tags = cat(eth(0x8100), ...Array.from({ length: 20 }, () => tag(1, 0x8100)));
  assert.equal(parsePacket(tags, 'ethernet').invalidAt, 'vlan');
  const labels = cat(eth(0x8847), ...Array.from({ length: 40 }, () => hex('00010040')));
  const m = parsePacket(labels, 'ethernet');
  assert.equal(m.invalidAt, 'mpls');
  assert.ok(m.mplsLabels.length <= 16);
  const ext = ipv6(60, cat(...Array.from({ length: 20 }, () => hex('3c00 0000 00000000'))));
  assert.equal(parsePacket(ext, 'ipv6').invalidAt, 'ipv6-ext');
  // IP in IP in IP ... : `inner` stops at MAX_ENCAP_DEPTH levels.
  let p = ipv4(17, udp(1, 2, hex('')));
  for (let i = 0; i < 10; i++) p = ipv4(4, p);
  let depth = 0;
  for (let h: PacketHeaders | undefined = parsePacket(p, 'ipv4'); h; h = h.inner) depth++;
  assert.equal(depth, 3);
});

const LAYERS: FirstLayer[] = ['ethernet', 'ipv4', 'ipv6', 'mpls'];

test('random bytes never throw and always give the documented shape', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...LAYERS), (bytes, layer) => {
      const h = parsePacket(bytes, layer);
      assert.equal(h.vlanIds.length, h.vlanPriorities.length);
      assert.equal(h.mplsLabels.length, h.mplsTtls.length);
    }),
    { numRuns: fuzzRuns(3000) },
  );
});

test('mutated real packets never throw and decode the same into a reused result', () => {
  const seeds = [
    ...captures().flatMap((f) => readPcap(readFileSync(join(ENCAP, f))).map((r) => r.data)),
    ...synthetic().map(([, d]) => d),
  ];
  const reused = createPacketHeaders();
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
      (seed, flips, cut) => {
        const bytes = seed.slice(0, seed.length === 0 ? 0 : (cut % seed.length) + 1);
        for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
        const fresh = parsePacket(bytes, 'ethernet');
        assert.deepEqual(parsePacket(bytes, 'ethernet', reused), fresh);
      },
    ),
    { numRuns: fuzzRuns(3000) },
  );
});
