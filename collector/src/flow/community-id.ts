import { createHash } from 'node:crypto';
import { parseIp } from '../protocol/address.js';

// Community ID v1 (corelight/community-id-spec): SHA-1 over seed, the ordered endpoint
// addresses, protocol, a zero pad byte and the ordered ports, base64, prefixed "1:".
// ICMP type/code stand in for ports as in the spec's reference implementation: a type
// with a request/response counterpart pairs with that counterpart (two-way), any
// other pairs with its code and is one-way (never reordered).

/** ICMPv4 request/response counterparts: echo, router, timestamp, info, address mask. */
const ICMP4_PAIRS = new Map<number, number>([
  [8, 0],
  [0, 8],
  [13, 14],
  [14, 13],
  [15, 16],
  [16, 15],
  [10, 9],
  [9, 10],
  [17, 18],
  [18, 17],
]);

/** ICMPv6: echo, MLD query/report, router and neighbor discovery, node info, HAAD. */
const ICMP6_PAIRS = new Map<number, number>([
  [128, 129],
  [129, 128],
  [130, 131],
  [131, 130],
  [133, 134],
  [134, 133],
  [135, 136],
  [136, 135],
  [139, 140],
  [140, 139],
  [144, 145],
  [145, 144],
]);

const PORTED = new Set([6, 17, 132]); // TCP, UDP, SCTP

export interface CommunityIdInput {
  srcAddr: string;
  dstAddr: string;
  protocol: number;
  srcPort?: number | undefined;
  dstPort?: number | undefined;
  icmpType?: number | undefined;
  icmpCode?: number | undefined;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** The Community ID of a flow, or undefined when the tuple cannot make one. */
export function communityId(f: CommunityIdInput, seed = 0): string | undefined {
  let src = parseIp(f.srcAddr);
  let dst = parseIp(f.dstAddr);
  if (!src || !dst || src.length !== dst.length) return undefined;
  let sport: number | undefined;
  let dport: number | undefined;
  let oneWay = false;
  if (PORTED.has(f.protocol)) {
    sport = f.srcPort;
    dport = f.dstPort;
    if (sport === undefined || dport === undefined) return undefined;
  } else if (f.protocol === 1 || f.protocol === 58) {
    if (f.icmpType === undefined) return undefined;
    const pair = (f.protocol === 1 ? ICMP4_PAIRS : ICMP6_PAIRS).get(f.icmpType);
    sport = f.icmpType;
    if (pair !== undefined) dport = pair;
    else {
      dport = f.icmpCode ?? 0;
      oneWay = true;
    }
  }
  if (!oneWay) {
    const c = compareBytes(src, dst);
    if (c > 0 || (c === 0 && sport !== undefined && dport !== undefined && sport > dport)) {
      [src, dst] = [dst, src];
      [sport, dport] = [dport, sport];
    }
  }
  const withPorts = sport !== undefined && dport !== undefined;
  const buf = new Uint8Array(2 + src.length * 2 + 2 + (withPorts ? 4 : 0));
  buf[0] = (seed >> 8) & 0xff;
  buf[1] = seed & 0xff;
  buf.set(src, 2);
  buf.set(dst, 2 + src.length);
  let o = 2 + src.length * 2;
  buf[o++] = f.protocol & 0xff;
  buf[o++] = 0;
  if (withPorts) {
    buf[o++] = ((sport as number) >> 8) & 0xff;
    buf[o++] = (sport as number) & 0xff;
    buf[o++] = ((dport as number) >> 8) & 0xff;
    buf[o++] = (dport as number) & 0xff;
  }
  return `1:${createHash('sha1').update(buf).digest('base64')}`;
}
