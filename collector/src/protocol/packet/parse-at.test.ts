import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PCAPS_DIR } from '@sluice/testkit';
import fc from 'fast-check';
import { fuzzRuns } from '../../../test/support/fuzz.js';
import { datagramsFromCaptures } from '../../ingest/capture-source.js';
import { ipv4ToString, ipv6ToString, macToString } from '../address.js';
import { decodeSflow } from '../sflow/decode.js';
import { createPacketHeaders, type FirstLayer, parsePacket } from './index.js';
import { outerAt, parsePacketAt } from './parse.js';
import { readPcap } from './pcap.test-helpers.js';

// parsePacketAt against parsePacket: the same result but for the outer addresses, which
// it leaves undefined and points at instead; the text made from where it points equals
// parsePacket's. Over the encapsulation captures' frames and the sFlow captures' headers, cut and changed, placed at an
// offset inside a bigger buffer with bytes after them (the sFlow datagram around a
// sampled header).

const ENCAP = join(PCAPS_DIR, 'akvorado', 'encap');
const SFLOW = join(PCAPS_DIR, 'akvorado', 'sflow');
const SEEDS = [
  ...readdirSync(ENCAP)
    .filter((f) => f.endsWith('.pcap'))
    .flatMap((f) => readPcap(readFileSync(join(ENCAP, f))).map((r) => r.data)),
  // The sampled headers of the sFlow captures (outer IPv4 and IPv6, VLAN tags).
  ...[...datagramsFromCaptures(readdirSync(SFLOW).map((f) => join(SFLOW, f)))].flatMap((d) =>
    (decodeSflow(d.bytes).datagram?.samples ?? []).flatMap((s) =>
      s.kind === 'flow'
        ? s.records.flatMap((r) => (r.type === 'raw_header' ? [r.header.slice()] : []))
        : [],
    ),
  ),
];
const LAYERS: FirstLayer[] = ['ethernet', 'ipv4', 'ipv6', 'mpls'];

test('parsePacketAt decodes as parsePacket, the outer addresses left where they are', () => {
  const reused = createPacketHeaders();
  let macs = 0;
  let ips = 0;
  fc.assert(
    fc.property(
      fc.oneof(fc.constantFrom(...SEEDS), fc.uint8Array({ maxLength: 120 })),
      fc.oneof(fc.nat(), fc.constant(-1)),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.constantFrom(...LAYERS, 'ethernet', 'ethernet', 'ethernet') as fc.Arbitrary<FirstLayer>,
      fc.uint8Array({ maxLength: 9 }),
      fc.uint8Array({ maxLength: 9 }),
      (seed, cut, flips, layer, before, after) => {
        const pkt = cut < 0 ? seed.slice() : seed.slice(0, (cut % (seed.length + 1)) | 0);
        for (const [at, v] of flips) if (pkt.length > 0) pkt[at % pkt.length] = v;
        const whole = new Uint8Array(before.length + pkt.length + after.length);
        whole.set(before, 0);
        whole.set(pkt, before.length);
        whole.set(after, before.length + pkt.length);
        const want = parsePacket(pkt, layer);
        const got = parsePacketAt(whole, before.length, before.length + pkt.length, layer, reused);
        const mac = outerAt.mac;
        const ip = outerAt.ip;
        assert.equal(got.srcMac, undefined);
        assert.equal(got.dstMac, undefined);
        assert.equal(got.srcAddr, undefined);
        assert.equal(got.dstAddr, undefined);
        assert.equal(mac >= 0 ? macToString(whole, mac) : undefined, want.dstMac);
        assert.equal(mac >= 0 ? macToString(whole, mac + 6) : undefined, want.srcMac);
        const text = want.ipVersion === 6 ? ipv6ToString : ipv4ToString;
        const size = want.ipVersion === 6 ? 16 : 4;
        assert.equal(ip >= 0 ? text(whole, ip) : undefined, want.srcAddr);
        assert.equal(ip >= 0 ? text(whole, ip + size) : undefined, want.dstAddr);
        if (mac >= 0) macs++;
        if (ip >= 0) ips++;
        assert.deepEqual(
          {
            ...got,
            srcMac: want.srcMac,
            dstMac: want.dstMac,
            srcAddr: want.srcAddr,
            dstAddr: want.dstAddr,
          },
          want,
        );
        // parsePacket after it makes the text again (the offsets mode does not linger).
        assert.deepEqual(parsePacket(pkt, layer), want);
      },
    ),
    { numRuns: fuzzRuns(3000) },
  );
  assert.ok(macs > 100 && ips > 100, `${macs} MACs, ${ips} IP pairs found`);
});
