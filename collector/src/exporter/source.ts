import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CaptureStreamParser } from '../protocol/capture/capture.js';
import type { CaptureEnd } from '../protocol/capture/types.js';
import type { SoftwareExporter } from './exporter.js';

/**
 * Feeds a capture stream (a pcap/pcapng file, or `tcpdump -w -` output) to the exporter.
 * File mode: the clock is the packets' time and the exporter's uptime starts at the first
 * packet. Live mode: the exporter was started on the wall clock by the caller.
 */
export async function feedCapture(
  exporter: SoftwareExporter,
  input: Readable,
  signal?: AbortSignal,
): Promise<CaptureEnd> {
  const parser = new CaptureStreamParser();
  const onAbort = () => input.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of input) {
      const frames = parser.push(chunk as Uint8Array);
      if (frames.length > 0 && !exporter.isStarted) {
        await exporter.start((frames[0] as { timeMs: number }).timeMs);
      }
      for (const f of frames) exporter.packet(f.linkType, f.data, f.origLength, f.timeMs);
      // Backpressure: do not read faster than the datagrams leave.
      await exporter.settle();
      if (signal?.aborted) break;
    }
  } catch (err) {
    // A stream destroyed on abort ends the read; any other error is the caller's.
    if (!signal?.aborted) throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return parser.end();
}

/** A capture file as a stream (large reads: fewer, bigger chunks). */
export function captureFile(path: string): Readable {
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

export interface LiveCapture {
  readonly child: ChildProcess;
  readonly stdout: Readable;
  /** tcpdump's stderr, for the error message when it fails. */
  stderr(): string;
  stop(): void;
}

/**
 * `tcpdump -U -w - -i IF` (packet-buffered pcap on stdout). Capturing needs root or
 * CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode) on the tcpdump binary.
 */
export function startTcpdump(
  tcpdump: string,
  iface: string,
  filter: readonly string[],
): LiveCapture {
  const child = spawn(tcpdump, ['-U', '-n', '-s', '262144', '-w', '-', '-i', iface, ...filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 8192) err += d.toString('utf8');
  });
  const stdout = child.stdout;
  if (!stdout) throw new Error('tcpdump has no stdout');
  return {
    child,
    stdout,
    stderr: () => err,
    stop: () => {
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
    },
  };
}
