import { Command, Option } from 'commander';

/** Defaults of `sluice collect`; documented in --help and the README. */
export const COLLECT_DEFAULTS = {
  netflowPort: 2055,
  ipfixPort: 4739,
  sflowPort: 6343,
  elasticsearchUrl: 'http://localhost:9200',
  dataStream: 'logs-netflow.sluice-default',
  httpListen: '127.0.0.1:9850',
} as const;

export interface CollectOptions {
  netflowPort: number;
  ipfixPort: number;
  sflowPort: number;
  elasticsearch: string;
  dataStream: string;
  http: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`not a UDP port (1-65535): ${value}`);
  }
  return n;
}

export function collectCommand(): Command {
  return new Command('collect')
    .description(
      'Receive flow exports over UDP, store every record in Elasticsearch and export ' +
        'aggregate OpenTelemetry metrics (the main job).',
    )
    .addOption(
      new Option('--netflow-port <port>', 'UDP port for NetFlow v1/5/7/9 and IPFIX')
        .default(COLLECT_DEFAULTS.netflowPort)
        .argParser(port),
    )
    .addOption(
      new Option('--ipfix-port <port>', 'UDP port for IPFIX')
        .default(COLLECT_DEFAULTS.ipfixPort)
        .argParser(port),
    )
    .addOption(
      new Option('--sflow-port <port>', 'UDP port for sFlow v2/4/5')
        .default(COLLECT_DEFAULTS.sflowPort)
        .argParser(port),
    )
    .addOption(
      new Option('--elasticsearch <url>', 'Elasticsearch URL')
        .default(COLLECT_DEFAULTS.elasticsearchUrl)
        .env('SLUICE_ELASTICSEARCH_URL'),
    )
    .option('--data-stream <name>', 'data stream the records go to', COLLECT_DEFAULTS.dataStream)
    .option('--http <host:port>', 'health, readiness and /metrics', COLLECT_DEFAULTS.httpListen)
    .action((opts: CollectOptions, cmd: Command) => {
      // The collector pipeline is not built yet. Say so plainly and say what this
      // command will do, rather than pretending to collect.
      const lines = [
        'sluice collect: not implemented yet. Nothing is listening and nothing is stored.',
        '',
        'When it is, with these settings it will:',
        `  - listen for NetFlow/IPFIX on UDP ${opts.netflowPort}, IPFIX on UDP ${opts.ipfixPort}, sFlow on UDP ${opts.sflowPort} (IPv4 and IPv6)`,
        '  - append every datagram to an on-disk journal before decoding it',
        `  - index every flow record into the data stream ${opts.dataStream} at ${opts.elasticsearch}`,
        `  - serve /healthz, /readyz and /metrics on http://${opts.http}`,
      ];
      cmd.error(lines.join('\n'), { exitCode: 1, code: 'sluice.notImplemented' });
    });
}
