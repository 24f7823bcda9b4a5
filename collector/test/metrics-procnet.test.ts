// The /proc/net/udp{,6} parser behind the kernel-drops metric: on a fixture in the
// kernel's exact layout, and on this machine's live files with sockets of our own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseProcNetUdp, readUdpDrops } from '../src/metrics/procnet.js';

// Rows as the kernel prints them (udp4_format_sock / udp6_sock_seq_show: "%5d: %08X:%04X
// %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK %u"), addresses in
// host byte order (little-endian here), plus lines a reader must survive.
const UDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             
  118: 0100007F:0807 00000000:0000 07 00000000:00000A00 00:00000000 00000000  1000        0 45678 2 0000000000000000 17        
  535: 00000000:128B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 45679 2 0000000000000000 0         
 1234: 0A00A8C0:1A0B 0500000A:0035 01 00000000:00000000 00:00000000 00000000   104        0 45680 2 0000000000000000 4294967295
  999: ZZZZZZZZ:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 1
  777: 0100007F:0807 00000000:0000 07 00000000:00000000 00:000
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  456: 00000000000000000000000001000000:1283 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 98765 2 0000000000000000 3
  457: 00000000000000000000000000000000:0807 00000000000000000000000000000000:0000 07 00000000:00000100 00:00000000 00000000     0        0 98766 2 0000000000000000 0
  458: B80D0120000000000000000001000000:17C1 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 98767 2 0000000000000000 9

`;

test('parser: kernel layout, host-order addresses, garbage and truncated lines skipped', () => {
  const v4 = parseProcNetUdp(UDP4, 'ipv4');
  assert.deepEqual(
    v4.map((e) => [e.localPort, e.inode, e.drops, e.rxQueue]),
    [
      [2055, 45678, 17, 2560],
      [4747, 45679, 0, 0],
      [6667, 45680, 4294967295, 0],
    ],
  );
  const v6 = parseProcNetUdp(UDP6, 'ipv6');
  assert.deepEqual(
    v6.map((e) => [e.localPort, e.drops, e.rxQueue]),
    [
      [4739, 3, 0],
      [2055, 0, 256],
      [6081, 9, 0],
    ],
  );
  if (endianness() === 'LE') {
    assert.deepEqual(
      v4.map((e) => e.localAddress),
      ['127.0.0.1', '0.0.0.0', '192.168.0.10'],
    );
    assert.deepEqual(
      v6.map((e) => e.localAddress),
      ['::1', '::', '2001:db8::1'],
    );
  }
  assert.deepEqual(parseProcNetUdp('', 'ipv4'), []);
  assert.deepEqual(parseProcNetUdp('not\n/proc\ncontent at all\n', 'ipv6'), []);
});

test('readUdpDrops: sums per family and port from given files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-procnet-'));
  try {
    // Two sockets on 2055 (SO_REUSEPORT) are summed.
    const twice = `${UDP4}  119: 00000000:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 45690 2 0000000000000000 5\n`;
    writeFileSync(join(dir, 'udp'), twice);
    writeFileSync(join(dir, 'udp6'), UDP6);
    const files = { ipv4: join(dir, 'udp'), ipv6: join(dir, 'udp6') };
    const got = await readUdpDrops(new Set([2055, 4739]), files);
    assert.deepEqual(
      got.sort((a, b) => a.family.localeCompare(b.family) || a.port - b.port),
      [
        { family: 'ipv4', port: 2055, drops: 22 },
        { family: 'ipv6', port: 2055, drops: 0 },
        { family: 'ipv6', port: 4739, drops: 3 },
      ],
    );
    // Missing files (not Linux, no IPv6): nothing, no error.
    assert.deepEqual(
      await readUdpDrops(new Set([2055]), { ipv4: join(dir, 'nope'), ipv6: join(dir, 'nope6') }),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function bound(type: 'udp4' | 'udp6', host: string): Promise<Socket | undefined> {
  const s = createSocket({ type, recvBufferSize: 4096 });
  s.on('message', () => {});
  try {
    s.bind(0, host);
    await Promise.race([once(s, 'listening'), once(s, 'error').then(([e]) => Promise.reject(e))]);
    return s;
  } catch {
    s.close();
    return undefined;
  }
}

test('live /proc/net/udp and udp6: our sockets found, drops read after a burst', async (t) => {
  const s4 = await bound('udp4', '127.0.0.1');
  assert.ok(s4);
  const s6 = await bound('udp6', '::1');
  t.after(() => {
    s4.close();
    s6?.close();
  });
  const p4 = (s4.address() as AddressInfo).port;
  const live = readFileSync('/proc/net/udp', 'utf8');
  const before = parseProcNetUdp(live, 'ipv4');
  const mine = before.filter((e) => e.localPort === p4);
  assert.equal(mine.length, 1, 'our socket is in /proc/net/udp');
  assert.equal(mine[0]?.drops, 0);
  if (endianness() === 'LE') assert.equal(mine[0]?.localAddress, '127.0.0.1');
  if (s6) {
    const p6 = (s6.address() as AddressInfo).port;
    const v6 = parseProcNetUdp(readFileSync('/proc/net/udp6', 'utf8'), 'ipv6');
    const e6 = v6.filter((e) => e.localPort === p6);
    assert.equal(e6.length, 1, 'our IPv6 socket is in /proc/net/udp6');
    if (endianness() === 'LE') assert.equal(e6[0]?.localAddress, '::1');
  }
  // Every row of the live file parses (none skipped).
  const rows = live.split('\n').filter((l) => /^\s*\d+:/.test(l));
  assert.equal(before.length, rows.length);

  // Burst while this event loop is blocked: the 4 KB buffer overflows.
  execFileSync(
    process.execPath,
    [
      '-e',
      `const s=require('node:dgram').createSocket('udp4');const b=Buffer.alloc(1200);let n=2000;
       for(let i=0;i<2000;i++)s.send(b,${p4},'127.0.0.1',()=>{if(--n===0)s.close();});`,
    ],
    { timeout: 30_000 },
  );
  const after = parseProcNetUdp(readFileSync('/proc/net/udp', 'utf8'), 'ipv4').find(
    (e) => e.localPort === p4,
  );
  assert.ok(after && after.drops > 0 && after.drops <= 2000, `drops: ${after?.drops}`);
});
