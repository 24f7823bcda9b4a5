import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { needServer, PCAPS_DIR, tsharkFields, tsharkPath } from '@sluice/testkit';
import fc from 'fast-check';
import { readCapture } from '../protocol/capture/capture.js';
import { parsePacket } from '../protocol/packet/parse.js';
import {
  type CommunityIdInput,
  communityId,
  communityIdsAhead,
  communityIdsDone,
  writeCommunityId,
} from './community-id.js';
import { communityIdReference } from './document-reference.test-helpers.js';
import { JsonOut } from './json-out.js';

// tshark's Community ID post-dissector is the oracle. It hashes the innermost IP header
// it dissected (the tunnelled packet) with its ports or ICMP type/code, so the test hands
// our function that same tuple: what is checked is the hash, for every kind of tuple.
// The encapsulation captures: TCP, UDP, ICMP, IPv4 and IPv6 behind every kind of tunnel.
// (In the sFlow and NetFlow captures tshark hashes the sampled packet inside the export,
// not the export datagram, so they are no oracle for a tuple we can name.)
const DIRS = [join(PCAPS_DIR, 'akvorado', 'encap')];

test('Community ID matches tshark on every packet of the shared captures', async (t) => {
  if (!(await needServer(t, async () => tsharkPath()))) return;
  let compared = 0;
  for (const dir of DIRS) {
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.pcap'))) {
      const file = join(dir, name);
      // The post-dissector is off by default in tshark 4.0.
      const oracle = tsharkFields(file, ['communityid'], {
        extraArgs: ['--enable-protocol', 'communityid'],
      }).map((r) => r[0] ?? '');
      const frames = [...readCapture(readFileSync(file))];
      assert.equal(frames.length, oracle.length, `${name}: frame count`);
      frames.forEach((frame, i) => {
        const want = oracle[i] ?? '';
        if (want === '') return; // tshark made none (no IP header)
        let p = parsePacket(frame.data, 'ethernet');
        while (p.inner?.srcAddr !== undefined) p = p.inner;
        assert.ok(p.srcAddr && p.dstAddr && p.protocol !== undefined, `${name} #${i + 1}: parsed`);
        const got = communityId({
          srcAddr: p.srcAddr,
          dstAddr: p.dstAddr,
          protocol: p.protocol,
          srcPort: p.srcPort,
          dstPort: p.dstPort,
          icmpType: p.icmpType,
          icmpCode: p.icmpCode,
        });
        assert.equal(got, want, `${name} #${i + 1}`);
        compared += 1;
      });
    }
  }
  assert.ok(compared >= 10, `compared ${compared} packets`);
});

test('Community ID: direction does not matter, ICMP echo pairs, one-way ICMP does not reorder', () => {
  const a = { srcAddr: '10.0.0.1', dstAddr: '127.0.0.1', protocol: 6, srcPort: 1234, dstPort: 80 };
  const b = { srcAddr: '127.0.0.1', dstAddr: '10.0.0.1', protocol: 6, srcPort: 80, dstPort: 1234 };
  assert.equal(communityId(a), communityId(b));
  const req = { srcAddr: '192.0.2.1', dstAddr: '192.0.2.2', protocol: 1, icmpType: 8, icmpCode: 0 };
  const rep = { srcAddr: '192.0.2.2', dstAddr: '192.0.2.1', protocol: 1, icmpType: 0, icmpCode: 0 };
  assert.equal(communityId(req), communityId(rep), 'echo request and reply are one flow');
  const unreachFwd = {
    srcAddr: '192.0.2.1',
    dstAddr: '192.0.2.2',
    protocol: 1,
    icmpType: 3,
    icmpCode: 1,
  };
  const unreachRev = {
    srcAddr: '192.0.2.2',
    dstAddr: '192.0.2.1',
    protocol: 1,
    icmpType: 3,
    icmpCode: 1,
  };
  assert.notEqual(
    communityId(unreachFwd),
    communityId(unreachRev),
    'one-way ICMP keeps its direction',
  );
  assert.equal(communityId({ ...a, srcPort: undefined }), undefined, 'TCP without ports has none');
  assert.match(communityId(a) ?? '', /^1:[A-Za-z0-9+/]{27}=$/);
});

const ip = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const portArb = fc.oneof(
  { weight: 8, arbitrary: fc.nat(65535) },
  { weight: 1, arbitrary: fc.constantFrom(0, 65535, 65536, -1, 1.5, 2 ** 40) },
);
const tupleArb = fc.record({
  src: fc.oneof(fc.nat(0xffffffff), fc.constantFrom(0, 0x7f000001, 0xffffffff)),
  dst: fc.oneof(fc.nat(0xffffffff), fc.constantFrom(0, 0x7f000001, 0xffffffff)),
  same: fc.boolean(),
  protocol: fc.oneof(fc.constantFrom(1, 6, 17, 58, 132, 47, 0, 255), fc.nat(300)),
  srcPort: fc.option(portArb, { nil: undefined }),
  dstPort: fc.option(portArb, { nil: undefined }),
  icmpType: fc.option(fc.oneof(fc.nat(255), fc.constantFrom(0, 8, 128, 129, 3)), {
    nil: undefined,
  }),
  icmpCode: fc.option(fc.nat(255), { nil: undefined }),
});

/** A flow of tupleArb: IPv4 numbers and their text. */
function flowOf({
  src,
  dst,
  same,
  ...rest
}: typeof tupleArb extends fc.Arbitrary<infer T> ? T : never): CommunityIdInput {
  const to = same ? src : dst;
  return { ...rest, srcAddr: ip(src), dstAddr: ip(to), srcIpv4: src, dstIpv4: to };
}

/** An IPv6 flow (text addresses only), which communityIdsAhead leaves to writeCommunityId. */
const ipv6FlowArb = fc
  .record({ a: fc.nat(0xffff), b: fc.nat(0xffff), sport: fc.nat(65535), dport: fc.nat(65535) })
  .map(({ a, b, sport, dport }) => ({
    srcAddr: `2001:db8::${a.toString(16)}`,
    dstAddr: `2001:db8::${b.toString(16)}`,
    protocol: 6,
    srcPort: sport,
    dstPort: dport,
  }));

function written(o: JsonOut, f: CommunityIdInput, seed: number): string | undefined {
  o.reset();
  return writeCommunityId(o, f, seed) ? o.text() : undefined;
}

test('writeCommunityId from IPv4 numbers equals the original function (node:crypto)', () => {
  // The IPv4 path builds the SHA-1 block's words from the numbers; the reference hashes
  // the bytes of the text addresses with node:crypto.
  const o = new JsonOut(16);
  fc.assert(
    fc.property(tupleArb, fc.nat(0xffff), ({ src, dst, same, ...rest }, seed) => {
      const to = same ? src : dst;
      const tuple = { ...rest, srcAddr: ip(src), dstAddr: ip(to) };
      const want = communityIdReference(tuple, seed);
      o.reset();
      const wrote = writeCommunityId(o, { ...tuple, srcIpv4: src, dstIpv4: to }, seed);
      assert.equal(wrote ? o.text() : undefined, want === undefined ? undefined : `"${want}"`);
    }),
    { numRuns: 20000 },
  );
});

test('Community IDs worked out ahead (four SHA-1 blocks at a time) equal the reference, in order or not', () => {
  // The decode workers hash a datagram's flows together before writing their documents
  // (communityIdsAhead); writeCommunityId then takes the text of the flow it is given only
  // when it is the next one worked out. Batches mix IPv4 flows (hashed ahead, more than
  // the 512 one SIMD call takes in some), IPv6 flows and flows that make no ID; some are
  // written twice or skipped, and the seed differs from the batch's in some runs.
  const o = new JsonOut(16);
  const batchArb = fc.array(
    fc.oneof({ weight: 6, arbitrary: tupleArb.map(flowOf) }, { weight: 1, arbitrary: ipv6FlowArb }),
    // size 'max': lengths drawn over the whole range (fast-check keeps arrays short by
    // default), so that some batches take more than one SIMD call.
    { minLength: 0, maxLength: 700, size: 'max' },
  );
  fc.assert(
    fc.property(
      batchArb,
      fc.nat(0xffff),
      fc.boolean(),
      fc.array(fc.nat(), { maxLength: 6 }),
      (flows, seed, sameSeed, disorder) => {
        const want = flows.map((f) => {
          const id = communityIdReference(f, seed);
          return id === undefined ? undefined : `"${id}"`;
        });
        communityIdsAhead(flows, sameSeed ? seed : seed ^ 1);
        try {
          // Writing order: in order, with a few flows written twice or skipped.
          const order = flows.map((_, i) => i);
          for (const d of disorder) {
            if (order.length === 0) break;
            const i = d % order.length;
            if (d % 2 === 0) order.splice(i, 0, order[i] as number);
            else order.splice(i, 1);
          }
          for (const i of order) {
            assert.equal(written(o, flows[i] as CommunityIdInput, seed), want[i], `flow ${i}`);
          }
        } finally {
          communityIdsDone();
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('flows changed after communityIdsDone are hashed as they are now (recycled records)', () => {
  // A decode worker's records are recycled: the objects of one datagram come back with
  // another datagram's values. Texts worked out for them must not outlive the batch.
  const o = new JsonOut(16);
  fc.assert(
    fc.property(
      fc.array(tupleArb, { minLength: 2, maxLength: 40 }),
      fc.array(tupleArb, { minLength: 40, maxLength: 40 }),
      (before, after) => {
        const flows = before.map(flowOf);
        communityIdsAhead(flows);
        communityIdsDone();
        for (const [i, f] of flows.entries()) {
          Object.assign(f, flowOf(after[i] as (typeof after)[number]));
        }
        for (const f of flows) {
          const id = communityIdReference(f, 0);
          assert.equal(written(o, f, 0), id === undefined ? undefined : `"${id}"`);
        }
      },
    ),
    { numRuns: 200 },
  );
});
