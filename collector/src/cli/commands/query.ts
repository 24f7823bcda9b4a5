import { Command } from 'commander';
import { compileFilter, formatFilterError } from '../../query/filter/index.js';

interface QueryFlags {
  explain?: boolean;
}

/**
 * `sluice query FILTER`: flow questions from a terminal. `--explain` prints the
 * Elasticsearch query a filter compiles to, without any server.
 */
export function queryCommand(): Command {
  return new Command('query')
    .description('Query stored flow records with an nfdump-style filter.')
    .argument(
      '[filter]',
      "nfdump filter, e.g. 'src net 10.0.0.0/8 and dst port 443' (default: everything)",
      '',
    )
    .option('--explain', 'print the compiled Elasticsearch query and exit (no server needed)')
    .addHelpText(
      'after',
      '\nFilter syntax (nfdump): ip/src ip/dst ip ADDR, net CIDR, port N, src port > N,\n' +
        'port in [80 443], proto tcp|udp|icmp|47, as N, in if N, out if N, vlan N, flags SA,\n' +
        'bytes > 1M, packets < 10, duration > 1000, inet, inet6, exporter ADDR,\n' +
        'and/or/not and parentheses; any indexed field as field:value.\n' +
        '\nExit code 2 on a filter error, with a caret under the column.',
    )
    .action((filter: string, flags: QueryFlags, cmd: Command) => {
      const compiled = compileFilter(filter);
      if (!compiled.ok) {
        process.stderr.write(`${formatFilterError(filter, compiled.error)}\n`);
        process.exitCode = 2;
        return;
      }
      if (flags.explain) {
        process.stdout.write(`${JSON.stringify({ query: compiled.query }, null, 2)}\n`);
        return;
      }
      cmd.error(
        'sluice query: only --explain is available yet; querying a running collector arrives with its query API',
        { exitCode: 1 },
      );
    });
}
