// Runs `sluice export ARGS` in a child process, from the command's own module (as the CLI
// entry point runs it), for the export tests. Commander's exits become the exit code.
import { spawn } from 'node:child_process';

const CLI = new URL('../src/cli/commands/export.ts', import.meta.url).href;

export interface ExportRun {
  code: number | null;
  stderr: string;
}

/**
 * Resolves when the child exits (killed after `timeoutMs`); `onStart` gets its pid and
 * a view of its stderr so far, for tests that signal it while it runs.
 */
export function runExportCli(
  args: readonly string[],
  opts: { onStart?: (pid: number, stderr: () => string) => void; timeoutMs?: number } = {},
): Promise<ExportRun> {
  const script = `const { Command } = await import('commander'); const { exportCommand } = await import(${JSON.stringify(CLI)}); const p = new Command('sluice').exitOverride(); p.addCommand(exportCommand().exitOverride()); try { await p.parseAsync(process.argv.slice(1), { from: 'user' }); } catch (e) { process.exitCode = e.exitCode ?? 1; }`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, 'export', ...args],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: new URL('..', import.meta.url).pathname },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    if (opts.onStart && child.pid !== undefined) opts.onStart(child.pid, () => stderr);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
