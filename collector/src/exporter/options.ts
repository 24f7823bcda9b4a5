import { accessSync, constants } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';
import type { ExportFormat } from './destination.js';
import type { Target } from './exporter.js';
import type { IfIndexMode } from './packet.js';

/**
 * `--to HOST:PORT[,version=5|9|10|sflow]`: IPv6 hosts in brackets (`[::1]:2055`). Version 9
 * when not given; `sflow` sends sFlow v5 packet samples (1-in-N with `--sample N`).
 */
export function parseTarget(spec: string): Target {
  const [addr = '', ...params] = spec.split(',');
  let host: string;
  let portText: string;
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(addr);
  if (bracket) {
    host = bracket[1] as string;
    portText = bracket[2] as string;
    if (!isIPv6(host)) throw new Error(`--to ${spec}: ${host} in brackets is not an IPv6 address`);
  } else {
    const colon = addr.lastIndexOf(':');
    if (colon <= 0) throw new Error(`--to ${spec}: expected HOST:PORT (IPv6 as [ADDR]:PORT)`);
    host = addr.slice(0, colon);
    portText = addr.slice(colon + 1);
    if (host.includes(':')) throw new Error(`--to ${spec}: write an IPv6 address as [ADDR]:PORT`);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    throw new Error(`--to ${spec}: port must be 1-65535, got ${portText}`);
  let version: ExportFormat = 9;
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k !== 'version') throw new Error(`--to ${spec}: unknown parameter ${k} (known: version)`);
    if (v === 'sflow') version = 'sflow';
    else if (v === '5' || v === '9' || v === '10') version = Number(v) as ExportFormat;
    else throw new Error(`--to ${spec}: version must be 5, 9 or 10 (IPFIX), or sflow, got ${v}`);
  }
  return { host, port, version };
}

/** `--if-index N` (ingress ifIndex for every flow) or `--if-index vlan` (the outer VLAN id). */
export function parseIfIndex(text: string): IfIndexMode {
  if (text === 'vlan') return { kind: 'vlan' };
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 0xffffffff)
    throw new Error(`--if-index: a number 0-4294967295 or "vlan", got ${text}`);
  return { kind: 'fixed', inIf: n, outIf: 0 };
}

export function positiveNumber(what: string, text: string, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`${what}: expected a positive ${integer ? 'integer' : 'number'}, got ${text}`);
  return n;
}

/** An executable named `name` on PATH or in the sbin directories, or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/sbin',
    '/usr/local/sbin',
  ];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}
