// The compose stack's demo exporter (deploy/demo/run-exporter.sh) run for real, in a
// network namespace standing in for its container: the script makes its veth pair,
// tcpreplay loops the demo capture into it, `sluice export` captures it live with tcpdump
// and exports NetFlow v9 and IPFIX. The exports are captured on the loopback interface
// and decoded by tshark (the independent oracle): the SSH scan of the demo capture
// arrives, and export times are the wall clock (the dashboards show "now").
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  needServer,
  netnsAvailable,
  ServerUnavailableError,
  waitFor,
  which,
} from '@sluice/testkit';
import { demoCapture } from '../../deploy/demo/traffic.js';
import { REPO } from './support/grafana-files.js';

const SCRIPT = join(REPO, 'deploy', 'demo', 'run-exporter.sh');
/** `sluice` for the script: the CLI's export command run from the sources. */
const SHIM_JS =
  'const { Command } = await import("commander"); const { exportCommand } = await import("./src/cli/commands/export.ts"); const p = new Command("sluice"); p.addCommand(exportCommand()); await p.parseAsync(process.argv.slice(1), { from: "user" });';

function tools(): { tcpdump: string; tcpreplay: string; tshark: string } {
  if (!netnsAvailable()) {
    throw new ServerUnavailableError('the demo exporter test needs root and ip netns');
  }
  const tcpdump = which('tcpdump', ['/usr/bin/tcpdump', '/usr/sbin/tcpdump']);
  const tcpreplay = which('tcpreplay', ['/usr/bin/tcpreplay']);
  const tshark = which('tshark', ['/usr/bin/tshark']);
  if (!tcpdump || !tcpreplay || !tshark) {
    throw new ServerUnavailableError('apt-get install -y tcpdump tcpreplay tshark');
  }
  return { tcpdump, tcpreplay, tshark };
}

/** A process in its own group, so the whole tree can be stopped. */
function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess & { log: () => string } {
  const child = spawn(args[0] as string, args.slice(1), {
    env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  });
  return Object.assign(child, { log: () => log });
}

function stop(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

test('demo exporter: run-exporter.sh exports the replayed demo traffic live, stamped now', async (t) => {
  const bins = await needServer(t, async () => tools());
  if (!bins) return;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
  const ns = `sluice-demo-${process.pid}`;
  const capture = join(dir, 'traffic.pcap');
  const exports = join(dir, 'exports.pcap');
  writeFileSync(capture, demoCapture());
  const shim = join(dir, 'bin');
  execFileSync('mkdir', ['-p', shim]);
  writeFileSync(
    join(shim, 'sluice'),
    `#!/bin/sh\ncd ${JSON.stringify(join(REPO, 'collector'))} || exit 1\nexec ${JSON.stringify(process.execPath)} --import tsx --input-type=module -e "$SLUICE_SHIM_JS" "$@"\n`,
    { mode: 0o755 },
  );
  execFileSync('ip', ['netns', 'add', ns]);
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) stop(c);
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  const inNs = (args: string[]) => ['ip', 'netns', 'exec', ns, ...args];
  execFileSync(
    inNs(['ip', 'link', 'set', 'lo', 'up'])[0] as string,
    inNs(['ip', 'link', 'set', 'lo', 'up']).slice(1),
  );
  const startedSecs = Math.floor(Date.now() / 1000);
  const tcpdump = start(
    inNs([
      bins.tcpdump,
      '-i',
      'lo',
      '-U',
      '-n',
      '-w',
      exports,
      'udp and (dst port 2055 or dst port 4739)',
    ]),
    process.env,
  );
  children.push(tcpdump);
  // The collector's ports answer (nothing listening would make the kernel refuse, and the
  // exporter lose, datagrams after each ICMP port unreachable).
  const receiver = spawn(
    'ip',
    [
      ...inNs([process.execPath]).slice(1),
      '-e',
      "const d = require('node:dgram'); let n = 0; for (const p of [2055, 4739]) { const s = d.createSocket('udp4'); s.on('message', () => {}); s.bind(p, '127.0.0.1', () => { if (++n === 2) console.log('ready'); }); }",
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(receiver);
  await new Promise<void>((resolve, reject) => {
    receiver.stdout?.once('data', () => resolve());
    receiver.once('exit', (code) => reject(new Error(`the receiver exited (${code})`)));
  });
  const demo = start(inNs(['sh', SCRIPT]), {
    ...process.env,
    PATH: `${shim}:${process.env.PATH ?? ''}`,
    SLUICE_SHIM_JS: SHIM_JS,
    DEMO_COLLECTOR: '127.0.0.1',
    DEMO_CAPTURE: capture,
  });
  children.push(demo);

  const fields = (port: number, filter: string, names: string[]) =>
    execFileSync(
      bins.tshark,
      [
        '-r',
        exports,
        '-d',
        `udp.port==${port},cflow`,
        '-Y',
        filter,
        '-T',
        'fields',
        '-E',
        'occurrence=a',
        ...names.flatMap((n) => ['-e', n]),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    )
      .split('\n')
      .filter(Boolean);
  // The scan: 10.66.6.6 to 60 addresses on port 22, in the NetFlow v9 and IPFIX exports.
  const probed = (port: number) => {
    const out = new Set<string>();
    for (const line of fields(port, `udp.dstport == ${port} && cflow`, [
      'cflow.srcaddr',
      'cflow.dstaddr',
      'cflow.dstport',
    ])) {
      const [src, dst, dport] = line.split('\t').map((c) => c.split(','));
      src?.forEach((s, i) => {
        if (s === '10.66.6.6' && dport?.[i] === '22') out.add(dst?.[i] ?? '');
      });
    }
    return out;
  };
  let seen = [0, 0];
  await waitFor(
    async () => {
      seen = [probed(2055).size, probed(4739).size];
      return seen[0] === 60 && seen[1] === 60 ? true : undefined;
    },
    { what: 'the SSH scan in the v9 and IPFIX exports', timeoutMs: 120_000, intervalMs: 3000 },
  ).catch((err: Error) => {
    throw new Error(`${err.message} (addresses seen: ${seen.join(', ')}); demo: ${demo.log()}`);
  });
  // tcpdump closes its file on SIGTERM: the last reads see whole packets only.
  const closed = new Promise((r) => tcpdump.once('exit', r));
  stop(tcpdump);
  await closed;
  // Export times are the wall clock, not the capture's 2025 clock.
  const nowSecs = Math.ceil(Date.now() / 1000);
  for (const [port, field] of [
    [2055, 'cflow.unix_secs'],
    [4739, 'cflow.exporttime'],
  ] as const) {
    const secs = fields(port, `udp.dstport == ${port} && cflow`, [field]).map(Number);
    assert.ok(secs.length > 0, `no export on ${port}`);
    for (const s of secs) assert.ok(s >= startedSecs - 1 && s <= nowSecs, `${field} ${s}`);
  }
});
