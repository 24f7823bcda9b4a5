import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';

/** One socket line of /proc/net/udp or /proc/net/udp6. */
export interface UdpSocketEntry {
  readonly family: 'ipv4' | 'ipv6';
  /** Local address in the usual text form (the kernel prints it in host byte order). */
  readonly localAddress: string;
  readonly localPort: number;
  /** Bytes waiting in the receive queue. */
  readonly rxQueue: number;
  readonly inode: number;
  /** Datagrams dropped since the socket was created (receive buffer full, mostly). */
  readonly drops: number;
}

const HEX = /^[0-9A-Fa-f]+$/;
const LITTLE_ENDIAN = endianness() === 'LE';

/** A 32-bit word as the kernel prints it (host order) to its four bytes in network order. */
function wordBytes(hex: string): number[] {
  const v = Number.parseInt(hex, 16);
  const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  return LITTLE_ENDIAN ? b.reverse() : b;
}

function ipv4Text(hex: string): string {
  return wordBytes(hex).join('.');
}

function ipv6Text(hex: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8)));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  }
  return compressZeros(groups);
}

/** RFC 5952 text: the longest run of two or more zero groups becomes `::`. */
function compressZeros(groups: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j += 1;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/**
 * Parses the text of /proc/net/udp or /proc/net/udp6. The header's column names do not
 * line up with the data (`tx_queue rx_queue` and `tr tm->when` are one field each in the
 * rows), so rows are read by position: `sl local rem st tx:rx tr:when retrnsmt uid
 * timeout inode ref pointer drops`. Lines that do not have that shape (the header, blank
 * lines, a truncated last line, kernels without the drops column) are skipped, never fatal.
 */
export function parseProcNetUdp(text: string, family: 'ipv4' | 'ipv6'): UdpSocketEntry[] {
  const addrLen = family === 'ipv4' ? 8 : 32;
  const out: UdpSocketEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13 || !f[0]?.endsWith(':')) continue;
    const [addr, port] = (f[1] ?? '').split(':');
    const queues = (f[4] ?? '').split(':');
    const rx = queues[1];
    const inode = f[9] ?? '';
    const drops = f[12] ?? '';
    if (addr === undefined || addr.length !== addrLen || !HEX.test(addr)) continue;
    if (port === undefined || !HEX.test(port) || port.length > 4) continue;
    if (rx === undefined || !HEX.test(rx) || !/^\d+$/.test(inode) || !/^\d+$/.test(drops)) {
      continue;
    }
    out.push({
      family,
      localAddress: family === 'ipv4' ? ipv4Text(addr) : ipv6Text(addr),
      localPort: Number.parseInt(port, 16),
      rxQueue: Number.parseInt(rx, 16),
      inode: Number(inode),
      drops: Number(drops),
    });
  }
  return out;
}

export interface ProcNetFiles {
  readonly ipv4: string;
  readonly ipv6: string;
}

export const PROC_NET_UDP: ProcNetFiles = { ipv4: '/proc/net/udp', ipv6: '/proc/net/udp6' };

/** Drops summed per (family, local port) over the sockets bound to the given ports. */
export interface PortDrops {
  readonly family: 'ipv4' | 'ipv6';
  readonly port: number;
  readonly drops: number;
}

async function readOr(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    // Not Linux, no IPv6, or /proc not mounted: nothing to report, not an error.
    return '';
  }
}

/**
 * Kernel drop counts for the collector's own UDP sockets, matched by local port (several
 * sockets on one port, as with SO_REUSEPORT, are summed).
 */
export async function readUdpDrops(
  ports: ReadonlySet<number>,
  files: ProcNetFiles = PROC_NET_UDP,
): Promise<PortDrops[]> {
  const [v4, v6] = await Promise.all([readOr(files.ipv4), readOr(files.ipv6)]);
  const sums = new Map<string, PortDrops>();
  for (const e of [...parseProcNetUdp(v4, 'ipv4'), ...parseProcNetUdp(v6, 'ipv6')]) {
    if (!ports.has(e.localPort)) continue;
    const k = `${e.family}/${e.localPort}`;
    const prev = sums.get(k);
    sums.set(k, { family: e.family, port: e.localPort, drops: (prev?.drops ?? 0) + e.drops });
  }
  return [...sums.values()];
}
