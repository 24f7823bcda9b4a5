import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { waitFor } from '@sluice/testkit';
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
