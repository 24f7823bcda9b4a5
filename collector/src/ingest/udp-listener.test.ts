import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { waitFor } from '@sluice/testkit';
import { readUdpDrops } from '../metrics/procnet.js';
import { normalizeAddress, UdpListener } from './udp-listener.js';

test('UDP listener: dual stack, exporter address normalized, kernel buffer cap reported', async (t) => {
  const got: { exporter: string; bytes: number; local: number }[] = [];
  const l = await UdpListener.bind({
    port: 0,
    address: '::',
    // Far beyond any default net.core.rmem_max: the kernel caps it and we must say so.
    receiveBufferBytes: 1 << 30,
    onDatagram: (bytes, exporter, _port, local) =>
      got.push({ exporter, bytes: bytes.length, local }),
  });
  t.after(() => l.close());
  assert.ok(l.capped, 'the request is capped');
  assert.ok(l.buffer.granted < l.buffer.requested);
  if (l.buffer.kernelMax !== undefined) assert.ok(l.buffer.granted <= l.buffer.kernelMax);
  for (const [family, to] of [
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const) {
    const s = createSocket(family);
    await new Promise<void>((r, j) =>
      s.send(Buffer.alloc(10 + got.length), l.port, to, (e) => (e ? j(e) : r())),
    );
    s.close();
  }
  await waitFor(() => (got.length === 2 ? true : undefined), {
    what: 'two datagrams',
    timeoutMs: 5_000,
  });
  assert.deepEqual(
    got.map((g) => g.exporter).sort(),
    ['127.0.0.1', '::1'],
    'IPv4 over the dual-stack socket arrives as a plain IPv4 address',
  );
  assert.ok(got.every((g) => g.local === l.port));
  assert.equal(normalizeAddress('::ffff:192.0.2.1'), '192.0.2.1');
});

test('UDP listener: a port in use is a clear error', async (t) => {
  const a = await UdpListener.bind({
    port: 0,
    address: '127.0.0.1',
    receiveBufferBytes: 1 << 16,
    onDatagram: () => {},
  });
  t.after(() => a.close());
  await assert.rejects(
    UdpListener.bind({
      port: a.port,
      address: '127.0.0.1',
      receiveBufferBytes: 1 << 16,
      onDatagram: () => {},
    }),
    new RegExp(`cannot listen on UDP 127\\.0\\.0\\.1 port ${a.port}`),
  );
});

test('UDP listener: a burst beyond the kernel buffer while the main thread is busy arrives whole', async (t) => {
  const received: number[] = [];
  const l = await UdpListener.bind({
    port: 0,
    address: '127.0.0.1',
    // ~1 MiB: a few hundred 1 KB datagrams, far fewer than the burst.
    receiveBufferBytes: 1 << 20,
    onDatagram: (bytes) => received.push(bytes.readUInt32BE(0)),
  });
  t.after(() => l.close());
  const COUNT = 4000;
  // Another process sends 4000 datagrams of 1 KB over ~400 ms (10 per ms) ...
  const sender = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:dgram').createSocket('udp4');
       let i = 0;
       const t0 = Date.now();
       (function next() {
         while (i < ${COUNT} && i < (Date.now() - t0 + 1) * 10) {
           const b = Buffer.alloc(1024);
           b.writeUInt32BE(i++, 0);
           s.send(b, ${l.port}, '127.0.0.1');
         }
         if (i < ${COUNT}) setImmediate(next); else setTimeout(() => s.close(), 100);
       })();`,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => sender.on('exit', r));
  // ... while this thread is busy for 600 ms (as when it builds bulk bodies): a reader on
  // this thread would leave the kernel buffer to overflow; the receive thread reads on.
  await new Promise((r) => setTimeout(r, 50));
  const until = Date.now() + 600;
  while (Date.now() < until) {
    // busy
  }
  await exited;
  await waitFor(() => (received.length >= COUNT ? true : undefined), {
    what: `${COUNT} datagrams (${received.length} so far)`,
    timeoutMs: 10_000,
  });
  assert.deepEqual(
    received,
    Array.from({ length: COUNT }, (_, i) => i),
    'every datagram once, in order',
  );
  const drops = (await readUdpDrops(new Set([l.port]))).reduce((n, d) => n + d.drops, 0);
  assert.equal(drops, 0, 'nothing dropped by the kernel');
});
