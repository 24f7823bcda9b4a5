// `sluice export` with bad input and bad arguments: a clear message and an exit code,
// never a crash; a truncated capture still exports the flows it holds.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateTraffic, mixedFlows, writeTraffic } from '@sluice/testkit';
import { FlowDecoder } from '../src/flow/decoder.js';
import { runExportCli } from './export-cli.test-helpers.js';

const DIR = mkdtempSync(join(tmpdir(), 'sluice-export-cli-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const run = (args: readonly string[], onStart?: (pid: number, stderr: () => string) => void) =>
  runExportCli(args, onStart ? { onStart } : {});

describe('sluice export: bad input', () => {
  it('a truncated capture: the flows before the cut are exported, the cut is reported', async () => {
    const g = generateTraffic(mixedFlows(Date.UTC(2024, 0, 1)), { seed: 3 });
    const file = join(DIR, 'cut.pcap');
    writeFileSync(file, g.pcap.subarray(0, Math.floor(g.pcap.length / 2)));
    const socket = createSocket('udp4');
    let datagrams = 0;
    socket.on('message', () => {
      datagrams += 1;
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    try {
      const res = await run([
        '--pcap',
        file,
        '--to',
        `127.0.0.1:${socket.address().port},version=10`,
        '--stats-interval',
        '0',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /truncated/);
      assert.match(res.stderr, /final: packets \d+/);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(datagrams > 0, 'flows of the first half exported');
    } finally {
      socket.close();
    }
  });

  it('not a capture, a missing file, bad arguments: a message and a non-zero exit', async () => {
    const junk = join(DIR, 'junk.pcap');
    writeFileSync(junk, 'hello, this is not a capture file');
    const cases: [string[], RegExp][] = [
      [['--pcap', junk, '--to', '127.0.0.1:9'], /not a pcap or pcapng capture/],
      [['--pcap', join(DIR, 'missing.pcap'), '--to', '127.0.0.1:9'], /ENOENT|no such file/],
      [['--pcap', junk], /at least one --to/],
      [['--to', '127.0.0.1:9'], /exactly one of --pcap FILE or --interface IF/],
      [['--pcap', junk, '--to', '127.0.0.1:9,version=7'], /version must be 5, 9 or 10/],
      [
        [
          '--pcap',
          junk,
          ...Array.from({ length: 17 }, (_, i) => ['--to', `127.0.0.1:${i + 1}`]).flat(),
        ],
        /at most 16 destinations/,
      ],
    ];
    for (const [args, message] of cases) {
      const res = await run(args);
      assert.notEqual(res.code, 0, `${args.join(' ')}: exit code`);
      assert.match(res.stderr, message, args.join(' '));
      assert.doesNotMatch(res.stderr, /^\s+at /m, `${args.join(' ')}: no stack trace`);
    }
  });
});

describe('sluice export: live capture (tcpdump stand-in) and SIGTERM', () => {
  it('SIGTERM exports the flows still in the cache, with their totals', async () => {
    // A stand-in for `tcpdump -U -w - -i IF`: writes a capture of traffic stamped now,
    // then waits like a live capture (flows stay in the cache: inactive timeout 15 s).
    const pcap = join(DIR, 'live.pcap');
    const g = writeTraffic(pcap, mixedFlows(Date.now() - 1000, { bulk: 5 }), { seed: 9 });
    const fake = join(DIR, 'fake-tcpdump.sh');
    writeFileSync(fake, `#!/bin/sh\ncat '${pcap}'\nexec sleep 60\n`);
    chmodSync(fake, 0o755);
    const socket = createSocket('udp4');
    const got: Uint8Array[] = [];
    socket.on('message', (m) => got.push(new Uint8Array(m)));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    try {
      const res = await run(
        [
          '--interface',
          'lo',
          '--tcpdump',
          fake,
          '--to',
          `127.0.0.1:${socket.address().port},version=9`,
          '--stats-interval',
          '0.5',
        ],
        (pid, stderr) => {
          const poll = setInterval(() => {
            // Once the periodic statistics show every packet, stop it.
            if (stderr().includes(`stats: packets ${g.frames} `)) {
              clearInterval(poll);
              process.kill(pid, 'SIGTERM');
            }
          }, 100);
          setTimeout(() => clearInterval(poll), 25_000);
        },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /SIGTERM: exporting the flows in the cache/);
      assert.match(res.stderr, new RegExp(`final: packets ${g.frames} `));
      await new Promise((r) => setTimeout(r, 200));
      const decoder = new FlowDecoder();
      const flows = got
        .flatMap((b) => decoder.decode({ bytes: b, exporter: '127.0.0.1', receivedMs: 0 }).records)
        .filter((r) => r.kind === 'flow');
      assert.equal(flows.length, g.flows.length, 'every flow exported at SIGTERM');
      assert.equal(
        flows.reduce((n, r) => n + (r.packets ?? 0), 0),
        g.flows.reduce((n, f) => n + f.packets, 0),
      );
      assert.equal(
        flows.reduce((n, r) => n + (r.bytes ?? 0), 0),
        g.flows.reduce((n, f) => n + f.bytes, 0),
      );
    } finally {
      socket.close();
    }
  });
});
