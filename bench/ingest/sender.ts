// Sends the benchmark's datagrams over UDP loopback, each exporter from its own source
// address, at a set rate of flow records per second or as fast as this process can.
import { createSocket, type Socket } from 'node:dgram';
import type { Outgoing } from './stream.js';

export interface SendResult {
  datagrams: number;
  records: number;
  /** Wall time from the first send to the last send's callback, seconds. */
  seconds: number;
  /** Sends the kernel refused (ENOBUFS and the like): counted, not retried. */
  errors: number;
}

async function socketFrom(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind({ address, port: 0 }, () => {
      s.off('error', reject);
      resolve();
    });
  });
  s.setSendBufferSize(4 << 20);
  return s;
}

/**
 * Sends every datagram once to 127.0.0.1:port. With a rate (records/s) the sends are
 * paced on a 2 ms tick (the number due by now, by the clock); without one, in bursts of
 * 64 with a yield to the event loop between them (send callbacks must run).
 */
export async function send(
  stream: readonly Outgoing[],
  port: number,
  recordsPerSecond: number | undefined,
): Promise<SendResult> {
  const sockets = new Map<string, Socket>();
  for (const o of stream)
    if (!sockets.has(o.exporter)) sockets.set(o.exporter, await socketFrom(o.exporter));
  let errors = 0;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  const done = (err: Error | null) => {
    if (err) errors += 1;
    outstanding -= 1;
    if (outstanding === 0) drained?.();
  };
  const perRecordMs = recordsPerSecond === undefined ? 0 : 1000 / recordsPerSecond;
  const t0 = performance.now();
  let i = 0;
  let recordsSent = 0;
  while (i < stream.length) {
    const dueRecords =
      recordsPerSecond === undefined
        ? Number.POSITIVE_INFINITY
        : (performance.now() - t0) / perRecordMs;
    let burst = 0;
    while (i < stream.length && recordsSent < dueRecords && burst < 64) {
      const o = stream[i] as Outgoing;
      outstanding += 1;
      (sockets.get(o.exporter) as Socket).send(o.bytes, port, '127.0.0.1', done);
      recordsSent += o.records;
      i += 1;
      burst += 1;
    }
    if (recordsPerSecond === undefined || burst === 64) await new Promise((r) => setImmediate(r));
    else await new Promise((r) => setTimeout(r, 2));
  }
  if (outstanding > 0) await new Promise<void>((r) => (drained = r));
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sockets.values()) s.close();
  return { datagrams: stream.length, records: recordsSent, seconds, errors };
}
