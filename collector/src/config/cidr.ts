import { parseIp } from '../protocol/address.js';

interface Net {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a single address; undefined when invalid. */
export function parseCidr(text: string): Net | undefined {
  const [addr, len] = text.split('/');
  const bytes = addr ? parseIp(addr.trim()) : undefined;
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { bytes, prefix };
}

function contains(net: Net, ip: Uint8Array): boolean {
  if (ip.length !== net.bytes.length) return false;
  const full = net.prefix >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== net.bytes[i]) return false;
  const rest = net.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((ip[full] as number) & mask) === ((net.bytes[full] as number) & mask);
}

/**
 * An allow-list of exporter networks. An empty list allows everyone. IPv4-mapped IPv6
 * source addresses (from a dual-stack socket) match IPv4 networks. Results are cached
 * per address (bounded), since a handful of exporters send all the traffic.
 */
export class AllowList {
  private readonly nets: Net[];
  private readonly cache = new Map<string, boolean>();

  constructor(cidrs: readonly string[]) {
    this.nets = cidrs.map((c) => {
      const n = parseCidr(c);
      if (!n) throw new Error(`not a network: ${c}`);
      return n;
    });
  }

  get empty(): boolean {
    return this.nets.length === 0;
  }

  allows(address: string): boolean {
    if (this.nets.length === 0) return true;
    const cached = this.cache.get(address);
    if (cached !== undefined) return cached;
    const text =
      address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
    const ip = parseIp(text);
    const ok = ip !== undefined && this.nets.some((n) => contains(n, ip));
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(address, ok);
    return ok;
  }
}
