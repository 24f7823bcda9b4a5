import { execFileSync } from 'node:child_process';
import { ServerUnavailableError } from './errors.js';
import { which } from './which.js';

/** One packet of `tshark -T json --no-duplicate-keys`: protocol layers by name. */
export type TsharkLayers = Record<string, unknown>;

export interface TsharkOptions {
  /** tshark -d rules, e.g. 'udp.port==2055,cflow' or 'udp.port==6343,sflow'. */
  decodeAs?: readonly string[];
  /** A display filter (-Y). */
  filter?: string;
  /** Any other tshark arguments, e.g. ['--enable-protocol', 'communityid']. */
  extraArgs?: readonly string[];
}

/** Path of tshark, or a ServerUnavailableError naming the package to install. */
export function tsharkPath(): string {
  const bin = which('tshark');
  if (!bin) throw new ServerUnavailableError('tshark is not installed: apt-get install -y tshark');
  return bin;
}

/**
 * Decodes a capture with tshark, the independent oracle our decoders are checked
 * against. Repeated fields come back as arrays (--no-duplicate-keys).
 */
export function tsharkPackets(file: string, opts: TsharkOptions = {}): TsharkLayers[] {
  const args = ['-r', file, '-T', 'json', '--no-duplicate-keys', ...(opts.extraArgs ?? [])];
  for (const d of opts.decodeAs ?? []) args.push('-d', d);
  if (opts.filter) args.push('-Y', opts.filter);
  const out = execFileSync(tsharkPath(), args, {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const packets = JSON.parse(out) as { _source: { layers: TsharkLayers } }[];
  return packets.map((p) => p._source.layers);
}

/** `tshark -T fields`: one array of values per packet, in the order of `fields`. */
export function tsharkFields(
  file: string,
  fields: readonly string[],
  opts: TsharkOptions = {},
): string[][] {
  const args = [
    '-r',
    file,
    '-T',
    'fields',
    '-E',
    'separator=\t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    ...(opts.extraArgs ?? []),
  ];
  for (const d of opts.decodeAs ?? []) args.push('-d', d);
  if (opts.filter) args.push('-Y', opts.filter);
  for (const f of fields) args.push('-e', f);
  const out = execFileSync(tsharkPath(), args, {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // One line per packet, empty when the packet has none of the fields: keep those, so
  // row i is always packet i.
  const lines = out.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => l.split('\t'));
}
