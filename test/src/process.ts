import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerStartError } from './errors.js';

export interface StartProcessOptions {
  /** Short name for messages, e.g. "elasticsearch". */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (only when we are root). */
  uid?: number;
  gid?: number;
  /** stdout and stderr of the server go here; its tail is printed on failure. */
  logFile: string;
  /** Resolves true once the server answers as ready. Errors count as "not yet". */
  ready: () => Promise<boolean>;
  readyTimeoutMs: number;
  pollMs?: number;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Last lines of the server's log. */
  logTail(lines?: number): string;
  /** SIGTERM to the server's process group, SIGKILL if it lingers. Idempotent. */
  stop(): Promise<void>;
}

/** Every server still running; killed when this process exits for any reason. */
const running = new Set<Running>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups, nothing to await.
  process.on('exit', () => {
    for (const r of running) r.killGroup('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const r of running) r.killGroup('SIGTERM');
      // Re-raise the conventional exit status (128 + signal number) after cleaning up.
      process.exit(sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 129);
    });
  }
}

function tailOf(file: string, lines: number): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log written)';
  }
}

class Running implements ManagedProcess {
  readonly exited: Promise<void>;
  private watchdog: ChildProcess | undefined;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /**
   * A detached shell that outlives us if we are SIGKILLed (no exit hook runs then):
   * it polls our pid and takes the server's process group down when we are gone.
   */
  armWatchdog(): void {
    const script =
      'while kill -0 "$0" 2>/dev/null; do sleep 1; done; ' +
      'kill -TERM "-$1" 2>/dev/null; sleep 5; kill -KILL "-$1" 2>/dev/null';
    this.watchdog = spawn('sh', ['-c', script, String(process.pid), String(this.pid)], {
      detached: true,
      stdio: 'ignore',
    });
    this.watchdog.unref();
  }

  /** Signals every process of the server's group, even when the leader already exited. */
  killGroup(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Already gone.
    }
  }

  logTail(lines = 60): string {
    return tailOf(this.logFile, lines);
  }

  /** True while any process of the server's group exists (the leader may exit first). */
  private groupAlive(): boolean {
    if (this.pid <= 0) return false;
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    if (!this.groupAlive()) return;
    this.killGroup('SIGTERM');
    // Wait for every member of the group, not just the leader: a launcher (such as
    // Elasticsearch's) can exit before the server it started.
    const deadline = Date.now() + 20_000;
    while (this.groupAlive() && Date.now() < deadline) await sleep(50);
    if (this.groupAlive()) {
      this.killGroup('SIGKILL');
      while (this.groupAlive()) await sleep(50);
    }
    await this.exited;
    running.delete(this);
    this.watchdog?.kill('SIGKILL');
  }
}

/**
 * Starts a server as a child process in its own process group, with its output in
 * a log file, and waits until `ready` says yes. On a timeout or an early exit the
 * server is killed and a ServerStartError carrying the log tail is thrown.
 */
export async function startProcess(opts: StartProcessOptions): Promise<ManagedProcess> {
  installExitHooks();
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, [...opts.args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
  } finally {
    closeSync(fd);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const proc = new Running(opts.name, child, opts.logFile);
  running.add(proc);
  proc.armWatchdog();

  const started = Date.now();
  const pollMs = opts.pollMs ?? 250;
  for (;;) {
    const failure = await Promise.race([
      spawnError.then((e) => `could not be started: ${e.message}`),
      proc.exited.then(() => 'exited before it was ready'),
      sleep(pollMs).then(() => undefined),
    ]);
    if (failure !== undefined) {
      throw new ServerStartError(`${opts.name} ${failure}`, proc.logTail(), opts.logFile);
    }
    let ok = false;
    try {
      ok = await opts.ready();
    } catch {
      ok = false;
    }
    if (ok) return proc;
    if (Date.now() - started > opts.readyTimeoutMs) {
      await proc.stop();
      throw new ServerStartError(
        `${opts.name} was not ready after ${opts.readyTimeoutMs} ms`,
        proc.logTail(),
        opts.logFile,
      );
    }
  }
}
