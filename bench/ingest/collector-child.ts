// `sluice collect` as an operator runs it: a child process with a configuration file of
// its own (temp data dir, one UDP port on loopback, its HTTP port, the benchmark's data
// stream), everything else at its defaults (workers = cores - 1, 32 MiB receive buffer
// asked for, journal fsync every second, bulk 5000 documents / 5 MiB / 1 s, 4 requests
// in flight), started with the node flags bin/sluice.js gives itself (as `sluice` runs when
// started as a program). JavaScript, as deployed: collector/bin/sluice.js when collector/dist is
// newer than every source file, otherwise the sources compiled now with the collector's
// own build settings into bench/ingest/.cache/ (git-ignored). `source` runs them through
// tsx instead (the same code, plus tsx's loader threads in memory: about +100 MB RSS).
import { type ChildProcess, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@sluice/testkit';
import { exited, outputOf, removeDir, spawnTracked, trackDir } from '../decode/children.js';

const COLLECTOR = fileURLToPath(new URL('../../collector/', import.meta.url));

export type CollectorBuild = 'dist' | 'compiled' | 'source';

/**
 * The node flags `sluice` runs with when started as a program: those its second line
 * (`":" //; exec node FLAGS "$0" "$@"`) gives node (the benchmark starts it as
 * `node FLAGS bin/sluice.js`).
 */
export const BIN_NODE_FLAGS: readonly string[] = (() => {
  const lines = readFileSync(join(COLLECTOR, 'bin', 'sluice.js'), 'utf8').split('\n', 2);
  const m = /^":" \/\/; exec node (.*)"\$0" "\$@"$/.exec(lines[1] ?? '');
  if (lines[0] !== '#!/bin/sh' || !m) {
    throw new Error(`collector/bin/sluice.js: unexpected first lines: ${lines.join('\n')}`);
  }
  return (m[1] ?? '').split(' ').filter((f) => f !== '');
})();

// dist/ under a copy of the package.json, as in the package (version.js reads it).
const COMPILED_PACKAGE = fileURLToPath(new URL('./.cache/collector/', import.meta.url));
const COMPILED = join(COMPILED_PACKAGE, 'dist');

const sourceMtime = () =>
  newestMtime(join(COLLECTOR, 'src'), (n) => n.endsWith('.ts') && !n.includes('.test'));

/**
 * Compiles collector/src (tsc, the collector's tsconfig.build.json) into .cache/, unless
 * the copy there is newer than every source file already.
 */
export function compileCollector(): void {
  try {
    if (statSync(join(COMPILED, 'cli', 'main.js')).mtimeMs >= sourceMtime()) return;
  } catch {
    // not compiled yet
  }
  mkdirSync(join(COMPILED_PACKAGE, 'bin'), { recursive: true });
  copyFileSync(join(COLLECTOR, 'package.json'), join(COMPILED_PACKAGE, 'package.json'));
  // The package's own launcher: it imports ../dist/cli/main.js.
  copyFileSync(join(COLLECTOR, 'bin', 'sluice.js'), join(COMPILED_PACKAGE, 'bin', 'sluice.js'));
  const tsc = join(COLLECTOR, '..', 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '-p', join(COLLECTOR, 'tsconfig.build.json'), '--outDir', COMPILED];
  try {
    execFileSync(process.execPath, [...args, '--noEmitOnError', 'false'], { stdio: 'pipe' });
  } catch {
    // Type errors elsewhere in the tree (work in progress) still emit JavaScript.
  }
  statSync(join(COMPILED, 'cli', 'main.js'));
}

function newestMtime(dir: string, keep: (name: string) => boolean): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, keep));
    else if (keep(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** 'dist' when the build is at least as new as every non-test source file, else 'compiled'. */
export function freshestBuild(): CollectorBuild {
  try {
    const built = statSync(join(COLLECTOR, 'dist', 'cli', 'main.js')).mtimeMs;
    return built >= sourceMtime() ? 'dist' : 'compiled';
  } catch {
    return 'compiled';
  }
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address: '127.0.0.1', port: 0 }, () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface RunningCollector {
  readonly pid: number;
  readonly udpPort: number;
  readonly apiUrl: string;
  /** A sum over the Prometheus text of /metrics: `name{...labels matching...} value`. */
  metric(name: string, labelMatch?: string): Promise<number>;
  /** SIGTERM, and the data dir removed. */
  stop(): Promise<void>;
  output(): string;
}

export async function startCollector(o: {
  elasticsearchUrl: string;
  dataStream: string;
  build: CollectorBuild;
  /** Node flags for the collector process (e.g. --max-old-space-size=192). */
  nodeFlags?: readonly string[];
}): Promise<RunningCollector> {
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'sluice-bench-ingest-')));
  const udpPort = await freeUdpPort();
  const httpPort = await freePort();
  const config = join(dir, 'sluice.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: [{ port: udpPort, address: '127.0.0.1' }],
      data_dir: join(dir, 'data'),
      log_level: 'warn',
      http: { listen: `127.0.0.1:${httpPort}` },
      elasticsearch: { url: o.elasticsearchUrl, data_stream: o.dataStream },
    }),
  );
  const args = ['collect', '--config', config];
  // Launched as a file, never with `-e` and --input-type: worker threads inherit the
  // process's execArgv, and a decode worker refuses to start with --input-type.
  const child: ChildProcess =
    o.build === 'source'
      ? spawnTracked(process.execPath, [
          ...BIN_NODE_FLAGS,
          ...(o.nodeFlags ?? []),
          '--import',
          'tsx',
          join(COLLECTOR, '..', 'bench', 'ingest', 'sluice-source.ts'),
          ...args,
        ])
      : spawnTracked(process.execPath, [
          ...BIN_NODE_FLAGS,
          ...(o.nodeFlags ?? []),
          join(o.build === 'dist' ? COLLECTOR : COMPILED_PACKAGE, 'bin', 'sluice.js'),
          ...args,
        ]);
  const output = outputOf(child);
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the collector exited:\n${output()}`);
    const ready = await fetch(`${apiUrl}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`the collector was not ready in 60 s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid: child.pid as number,
    udpPort,
    apiUrl,
    metric: async (name, labelMatch = '') => {
      const text = await (await fetch(`${apiUrl}/metrics`)).text();
      let sum = 0;
      for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
        if ((m[1] ?? '').includes(labelMatch)) sum += Number(m[2]);
      }
      return sum;
    },
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited(child);
      clearTimeout(t);
      removeDir(dir);
    },
    output,
  };
}
