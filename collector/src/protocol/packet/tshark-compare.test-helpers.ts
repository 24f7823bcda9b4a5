/**
 * TEST-ONLY: puts tshark's decode of a frame (`-T json --no-duplicate-keys` layers) and
 * our `PacketHeaders` into the same normalized list of layers, so tests can compare them
 * field by field. Pure: the tests run tshark.
 */
import type { PacketHeaders } from './headers.js';

/** One protocol layer with its fields as decimal / lower-case text. */
export interface LayerItem {
  p: string;
  f: Record<string, string>;
  /** Our side only: the header was cut short, compare only the fields both sides have. */
  truncated?: boolean;
}

type Json = Record<string, unknown>;

function asObject(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** '0x0800' or '2048' to '2048'. */
function num(v: unknown): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  return String(Number(s));
}

function put(f: Record<string, string>, key: string, value: string | undefined): void {
  if (value !== undefined) f[key] = value;
}

/** Fields of one tshark layer object, normalized. */
function tsharkItem(p: string, o: Json): LayerItem {
  const f: Record<string, string> = {};
  switch (p) {
    case 'eth':
      put(f, 'src', str(o['eth.src']));
      put(f, 'dst', str(o['eth.dst']));
      put(f, 'type', num(o['eth.type']));
      break;
    case 'vlan':
      put(f, 'id', num(o['vlan.id']));
      put(f, 'prio', num(o['vlan.priority']));
      put(f, 'etype', num(o['vlan.etype']));
      break;
    case 'ieee8021ad':
      put(f, 'id', num(o['ieee8021ad.id']));
      put(f, 'prio', num(o['ieee8021ad.priority']));
      put(f, 'etype', num(o['ieee8021ah.etype'] ?? o['ieee8021ad.etype']));
      break;
    case 'mpls':
      put(f, 'label', num(o['mpls.label']));
      put(f, 'tc', num(o['mpls.exp'] ?? o['mpls.tc']));
      put(f, 'bottom', num(o['mpls.bottom']));
      put(f, 'ttl', num(o['mpls.ttl']));
      break;
    case 'ip':
      put(f, 'src', str(o['ip.src']));
      put(f, 'dst', str(o['ip.dst']));
      put(f, 'proto', num(o['ip.proto']));
      put(f, 'ttl', num(o['ip.ttl']));
      put(f, 'len', num(o['ip.len']));
      put(f, 'id', num(o['ip.id']));
      put(f, 'flags', num(o['ip.flags']));
      put(f, 'frag', num(o['ip.frag_offset']));
      put(f, 'tos', num(o['ip.dsfield']));
      put(f, 'hdr_len', num(o['ip.hdr_len']));
      break;
    case 'ipv6': {
      put(f, 'src', str(o['ipv6.src']));
      put(f, 'dst', str(o['ipv6.dst']));
      put(f, 'nxt', num(o['ipv6.nxt']));
      put(f, 'hlim', num(o['ipv6.hlim']));
      put(f, 'plen', num(o['ipv6.plen']));
      put(f, 'flow', num(o['ipv6.flow']));
      put(f, 'tclass', num(o['ipv6.tclass']));
      const routing = asObject(o['ipv6.routing']);
      if (routing !== undefined && routing['ipv6.routing.type'] === '4') {
        put(f, 'segleft', num(routing['ipv6.routing.segleft']));
        const addrs = routing['ipv6.routing.srh.addr'];
        f.segments = (Array.isArray(addrs) ? addrs : [addrs]).join(',');
      }
      break;
    }
    case 'tcp': {
      put(f, 'srcport', num(o['tcp.srcport']));
      put(f, 'dstport', num(o['tcp.dstport']));
      const flags = num(o['tcp.flags']);
      if (flags !== undefined) f.flags = String(Number(flags) & 0x1ff);
      break;
    }
    case 'udp':
      put(f, 'srcport', num(o['udp.srcport']));
      put(f, 'dstport', num(o['udp.dstport']));
      put(f, 'length', num(o['udp.length']));
      break;
    case 'icmp':
      put(f, 'type', num(o['icmp.type']));
      put(f, 'code', num(o['icmp.code']));
      break;
    case 'icmpv6':
      put(f, 'type', num(o['icmpv6.type']));
      put(f, 'code', num(o['icmpv6.code']));
      break;
    case 'gre':
      put(f, 'flags', num(o['gre.flags_and_version']));
      put(f, 'proto', num(o['gre.proto']));
      put(f, 'key', num(o['gre.key']));
      // Enhanced GRE (v1) carries payload length and call id where v0 has the key.
      if (f.key === undefined && o['gre.key.call_id'] !== undefined) {
        const plen = Number(num(o['gre.key.payload_length']) ?? 0);
        f.key = String(plen * 65536 + Number(num(o['gre.key.call_id'])));
      }
      put(f, 'seq', num(o['gre.sequence_number']));
      break;
    case 'vxlan':
      put(f, 'vni', num(o['vxlan.vni']));
      break;
    case 'pwethcw':
      put(f, 'seq', num(o['pweth.cw.sequence_number']));
      break;
  }
  return { p: p === 'ieee8021ad' ? 'vlan' : p, f };
}

const COMPARED = new Set([
  'eth',
  'vlan',
  'ieee8021ad',
  'mpls',
  'ip',
  'ipv6',
  'tcp',
  'udp',
  'icmp',
  'icmpv6',
  'gre',
  'vxlan',
]);

/**
 * tshark's layers in wire order, from `frame.protocols` (repeated layers come as arrays
 * with --no-duplicate-keys; MPLS is one protocol entry per label stack). The walk stops
 * after TCP, ICMP and a UDP that is not VXLAN: what tshark finds beyond (ICMP error
 * quotes, application protocols, other UDP tunnels) is out of the parser's scope.
 */
export function tsharkLayers(layers: Json): LayerItem[] {
  const frame = asObject(layers.frame);
  const protocols = str(frame?.['frame.protocols'])?.split(':') ?? [];
  const seen = new Map<string, number>();
  const take = (name: string): Json | undefined => {
    const i = seen.get(name) ?? 0;
    seen.set(name, i + 1);
    const v = layers[name];
    if (Array.isArray(v)) return asObject(v[i]);
    return i === 0 ? asObject(v) : undefined;
  };
  const items: LayerItem[] = [];
  for (let i = 0; i < protocols.length; i++) {
    const name = protocols[i] as string;
    if (!COMPARED.has(name)) continue;
    if (name === 'mpls') {
      for (let n = 0; n < 32; n++) {
        const o = take('mpls');
        if (o === undefined) break;
        items.push(tsharkItem('mpls', o));
        if (o['mpls.bottom'] === '1') break;
      }
      // tshark lists the PW control word as its own layer but not in frame.protocols.
      const next = protocols[i + 1];
      if (next === 'eth' && layers.pwethcw !== undefined) {
        const o = take('pwethcw');
        if (o !== undefined) items.push(tsharkItem('pwethcw', o));
      }
      continue;
    }
    const o = take(name);
    if (o === undefined) continue;
    items.push(tsharkItem(name, o));
    if (name === 'tcp' || name === 'icmp' || name === 'icmpv6') break;
    if (name === 'udp' && protocols[i + 1] !== 'vxlan') break;
  }
  return items;
}

const d = (n: number | undefined): string | undefined => (n === undefined ? undefined : String(n));

/** Our result as the same list of layers (outer first, then `inner`, recursively). */
export function ourLayers(h: PacketHeaders, items: LayerItem[] = []): LayerItem[] {
  const t = h.truncatedAt;
  if (h.srcMac !== undefined) {
    const f: Record<string, string> = { src: h.srcMac };
    put(f, 'dst', h.dstMac);
    put(f, 'type', d(h.vlanTpids[0] ?? h.etherType));
    items.push({ p: 'eth', f, truncated: t === 'ethernet' || t === 'vlan' });
  }
  for (let i = 0; i < h.vlanIds.length; i++) {
    const f: Record<string, string> = {
      id: String(h.vlanIds[i]),
      prio: String(h.vlanPriorities[i]),
    };
    put(f, 'etype', d(h.vlanTpids[i + 1] ?? h.etherType));
    items.push({ p: 'vlan', f });
  }
  const n = h.mplsLabels.length;
  for (let i = 0; i < n; i++) {
    items.push({
      p: 'mpls',
      f: {
        label: String(h.mplsLabels[i]),
        tc: String(h.mplsTcs[i]),
        bottom: i === n - 1 && t !== 'mpls' ? '1' : '0',
        ttl: String(h.mplsTtls[i]),
      },
    });
  }
  if (h.pwControlWord !== undefined) {
    items.push({ p: 'pwethcw', f: { seq: String(h.pwControlWord & 0xffff) } });
  }
  if (h.ipVersion === 4 && h.srcAddr !== undefined) {
    const f: Record<string, string> = { src: h.srcAddr };
    put(f, 'dst', h.dstAddr);
    put(f, 'proto', d(h.protocol));
    put(f, 'ttl', d(h.ttl));
    put(f, 'len', d(h.ipTotalLength));
    put(f, 'id', d(h.ipId));
    put(f, 'flags', d(h.ipFlags));
    put(f, 'frag', d(h.fragmentOffset));
    put(f, 'tos', d(h.tos));
    put(f, 'hdr_len', d(h.ipHeaderLength));
    items.push({ p: 'ip', f, truncated: t === 'ipv4' });
  } else if (h.ipVersion === 6 && h.srcAddr !== undefined) {
    const f: Record<string, string> = { src: h.srcAddr };
    put(f, 'dst', h.dstAddr);
    put(f, 'nxt', d(h.ipv6ExtHeaders[0] ?? h.protocol));
    put(f, 'hlim', d(h.ttl));
    put(f, 'plen', d(h.ipv6PayloadLength));
    put(f, 'flow', d(h.ipv6FlowLabel));
    put(f, 'tclass', d(h.tos));
    if (h.srv6SegmentsLeft !== undefined) {
      f.segleft = String(h.srv6SegmentsLeft);
      f.segments = h.srv6Segments.join(',');
    }
    items.push({ p: 'ipv6', f, truncated: t === 'ipv6-ext' });
  }
  switch (h.protocol) {
    case 6:
      if (h.srcPort !== undefined) {
        const f: Record<string, string> = { srcport: String(h.srcPort) };
        put(f, 'dstport', d(h.dstPort));
        put(f, 'flags', d(h.tcpFlags));
        items.push({ p: 'tcp', f, truncated: t === 'tcp' });
      }
      break;
    case 17:
      if (h.srcPort !== undefined) {
        const f: Record<string, string> = { srcport: String(h.srcPort) };
        put(f, 'dstport', d(h.dstPort));
        put(f, 'length', d(h.udpLength));
        items.push({ p: 'udp', f, truncated: t === 'udp' });
      }
      if (h.vxlanVni !== undefined) items.push({ p: 'vxlan', f: { vni: String(h.vxlanVni) } });
      break;
    case 1:
    case 58:
      if (h.icmpType !== undefined) {
        const f: Record<string, string> = { type: String(h.icmpType) };
        put(f, 'code', d(h.icmpCode));
        items.push({ p: h.protocol === 1 ? 'icmp' : 'icmpv6', f, truncated: t === 'icmp' });
      }
      break;
    case 47:
      if (h.greFlags !== undefined) {
        const f: Record<string, string> = { flags: String(h.greFlags) };
        put(f, 'proto', d(h.greProtocol));
        put(f, 'key', d(h.greKey));
        put(f, 'seq', d(h.greSequence));
        items.push({ p: 'gre', f, truncated: t === 'gre' });
      }
      break;
  }
  if (h.inner !== undefined) ourLayers(h.inner, items);
  return items;
}

/** Whether decoding stopped because the bytes ran out, at any encapsulation level. */
export function isTruncated(h: PacketHeaders): boolean {
  for (let x: PacketHeaders | undefined = h; x !== undefined; x = x.inner) {
    if (x.truncatedAt !== undefined) return true;
  }
  return false;
}

/**
 * Differences between tshark's layers and ours, as readable lines (empty = equal).
 * Layers must match one for one, field for field. When our decode was cut short
 * (`truncated`), tshark may show partial layers beyond ours, a layer we mark truncated is
 * compared on the fields both sides have, and may be missing on tshark's side.
 */
export function compareLayers(
  expected: LayerItem[],
  actual: LayerItem[],
  truncated = false,
): string[] {
  const out: string[] = [];
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const e = expected[i];
    const a = actual[i];
    if (a === undefined && truncated) break;
    if (e === undefined && a?.truncated === true && i === actual.length - 1) break;
    if (e === undefined || a === undefined || e.p !== a.p) {
      out.push(`layer ${i}: tshark ${e?.p ?? '(none)'} vs ours ${a?.p ?? '(none)'}`);
      break;
    }
    const keys = new Set([...Object.keys(e.f), ...Object.keys(a.f)]);
    for (const k of keys) {
      const ev = e.f[k];
      const av = a.f[k];
      if (a.truncated === true && (ev === undefined || av === undefined)) continue;
      if (ev !== av) out.push(`${e.p}[${i}].${k}: tshark ${ev} vs ours ${av}`);
    }
  }
  return out;
}
