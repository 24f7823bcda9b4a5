// Every child process and temp dir the benchmark makes is registered here and taken down
// when the benchmark exits, fails or is interrupted.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

export function spawnTracked(cmd: string, args: readonly string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export function trackDir(dir: string): string {
  dirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

function cleanUp(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Installs the exit and signal hooks; call once, first thing. */
export function installCleanup(): void {
  process.on('exit', cleanUp);
  const signals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const [sig, code] of Object.entries(signals)) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping child processes\n`);
      cleanUp();
      process.exit(code);
    });
  }
}

/** Collects a child's output (the last 8 KiB), to show when it fails. */
export function outputOf(child: ChildProcess): () => string {
  let text = '';
  const add = (b: Buffer) => {
    text = (text + b.toString()).slice(-8192);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text;
}

/** Resolves with the exit code (or signal name) when the child ends. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
}
