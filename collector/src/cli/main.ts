import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { collectCommand } from './commands/collect.js';
import { configCommand } from './commands/config.js';
import { decodeCommand } from './commands/decode.js';
import { exportCommand } from './commands/export.js';
import { queryCommand } from './commands/query.js';
import { replayCommand } from './commands/replay.js';
import { topCommand } from './commands/top.js';

/** Builds the `sluice` program. Each command lives in its own file under ./commands. */
export function buildProgram(): Command {
  const program = new Command('sluice')
    .description(
      'Sluice: a full-fidelity network flow collector.\n' +
        'NetFlow v1/5/7/9, IPFIX and sFlow v2/4/5 in; every record into Elasticsearch,\n' +
        'aggregates as OpenTelemetry metrics.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nRun `sluice <command> --help` for the options of a command.\nDocs: README.md at the root of the repository.',
    );
  program.addCommand(collectCommand());
  program.addCommand(decodeCommand());
  program.addCommand(replayCommand());
  program.addCommand(queryCommand());
  program.addCommand(topCommand());
  program.addCommand(exportCommand());
  program.addCommand(configCommand());
  return program;
}

/**
 * Runs the CLI and resolves to the process exit code, so tests can call it in-process
 * and the bin script stays a one-liner.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'node' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
}
