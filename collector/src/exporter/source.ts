import { type ChildProcess, spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { CaptureStreamParser } from '../protocol/capture/capture.js';
import type { CaptureEnd, FrameSink } from '../protocol/capture/types.js';
import type { SoftwareExporter } from './exporter.js';

/** A capture file, read in place through one reused buffer (see `captureFile`). */
export interface CaptureFileInput {
  readonly kind: 'capture-file';
  readonly path: string;
}

/** What `feedCapture` reads: a capture file, or a stream such as `tcpdump -w -` output. */
export type CaptureInput = CaptureFileInput | Readable;

/** A capture file to feed (read in 1 MiB pieces into one buffer: no garbage per read). */
export function captureFile(path: string): CaptureFileInput {
  return { kind: 'capture-file', path };
}

const FILE_READ_BYTES = 1 << 20;

/** Notes the time of the first frame (the exporter's boot time in file mode). */
class FirstFrame implements FrameSink {
  timeMs: number | undefined;
  frame(_l: number, _b: Uint8Array, _o: number, _n: number, _ol: number, timeMs: number): void {
    this.timeMs ??= timeMs;
  }
}

/**
 * Feeds a capture (a pcap/pcapng file, or `tcpdump -w -` output) to the exporter.
 * Frames go straight from the read buffer to the exporter (`CaptureStreamParser.pushTo`:
 * no object per packet for classic pcap). File mode: the clock is the packets' time and
 * the exporter's uptime starts at the first packet. Live mode: the exporter was started
 * on the wall clock by the caller. Errors opening or reading the input are thrown; a
 * damaged capture ends the read and is reported in the returned `CaptureEnd`.
 */
export async function feedCapture(
  exporter: SoftwareExporter,
  input: CaptureInput,
  signal?: AbortSignal,
): Promise<CaptureEnd> {
  const parser = new CaptureStreamParser();
  // Until the exporter is started, chunks wait (copied if the buffer is reused) while
  // a second parser looks for the first frame's time.
  const first = new FirstFrame();
  const probe = new CaptureStreamParser();
  let held: Uint8Array[] = [];
  const take = async (chunk: Uint8Array, reused: boolean): Promise<void> => {
    if (!exporter.isStarted) {
      probe.pushTo(chunk, first);
      if (first.timeMs === undefined) {
        held.push(reused ? chunk.slice() : chunk);
        return;
      }
      await exporter.start(first.timeMs);
      for (const h of held) parser.pushTo(h, exporter);
      held = [];
    }
    parser.pushTo(chunk, exporter);
    // Backpressure: do not read faster than the datagrams leave.
    await exporter.settle();
  };
  if ('kind' in input && input.kind === 'capture-file') {
    const fh = await open(input.path, 'r');
    try {
      const buf = new Uint8Array(FILE_READ_BYTES);
      while (!signal?.aborted) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        await take(buf.subarray(0, bytesRead), true);
      }
    } finally {
      await fh.close();
    }
  } else {
    const stream = input as Readable;
    const onAbort = () => stream.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of stream) {
        await take(chunk as Uint8Array, false);
        if (signal?.aborted) break;
      }
    } catch (err) {
      // A stream destroyed on abort ends the read; any other error is the caller's.
      if (!signal?.aborted) throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  // No frame at all: the parser still reads what there was, for the error it reports.
  for (const h of held) parser.pushTo(h, exporter);
  return parser.end();
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
