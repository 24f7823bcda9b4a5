import { Command, InvalidArgumentError, Option } from 'commander';
import { type ExportFileSettings, readExportConfig } from '../../exporter/config.js';
import type { Target } from '../../exporter/exporter.js';
import { type ExporterOptions, formatStats, SoftwareExporter } from '../../exporter/exporter.js';
import {
  type ExportMetricsServer,
  parseListen,
  startExportMetrics,
} from '../../exporter/metrics.js';
import {
  findExecutable,
  parseIfIndex,
  parseTarget,
  positiveNumber,
} from '../../exporter/options.js';
import { captureFile, feedCapture, startTcpdump } from '../../exporter/source.js';

interface ExportCliOptions {
  pcap?: string;
  interface?: string;
  to: Target[];
  sample?: number;
  activeTimeout: number;
  inactiveTimeout: number;
  ifIndex?: ReturnType<typeof parseIfIndex>;
  maxFlows: number;
  domain: number;
  templateRefresh: number;
  templateRefreshPackets: number;
  statsInterval: number;
  filter?: string;
  tcpdump?: string;
  metrics?: { host: string; port: number };
  config?: string;
}

/** Option parsers report bad values through commander (a message and exit code 1). */
const wrap =
  <T>(fn: (v: string) => T) =>
  (v: string): T => {
    try {
      return fn(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };

/** `sluice export`: a software flow exporter (pcap file or live capture → NetFlow/IPFIX). */
export function exportCommand(): Command {
  return new Command('export')
    .description(
      'Software flow exporter: reads packets from a capture file or a live interface, keeps\n' +
        'a flow cache, and exports NetFlow v5, v9 or IPFIX over UDP to up to 16 destinations.',
    )
    .addOption(
      new Option('--pcap <file>', 'read packets from a pcap or pcapng file').conflicts('interface'),
    )
    .addOption(
      new Option(
        '--interface <if>',
        'capture live from an interface through `tcpdump -U -w -` (needs root or CAP_NET_RAW)',
      ),
    )
    .option(
      '--to <host:port[,version=5|9|10|sflow]>',
      'export destination, repeatable up to 16 times; version 9 when not given; sflow = sFlow v5 packet samples (1-in-N with --sample); IPv6 as [addr]:port',
      (v: string, prev: Target[]) => [...prev, wrap(parseTarget)(v)],
      [] as Target[],
    )
    .option(
      '--sample <n>',
      '1-in-N packet sampling, announced to collectors',
      wrap((v) => positiveNumber('--sample', v, true)),
    )
    .option(
      '--active-timeout <s>',
      'export a flow that lasted this long',
      wrap((v) => positiveNumber('--active-timeout', v)),
      1800,
    )
    .option(
      '--inactive-timeout <s>',
      'export a flow idle this long',
      wrap((v) => positiveNumber('--inactive-timeout', v)),
      15,
    )
    .option(
      '--if-index <n|vlan>',
      'ingress ifIndex of every flow, or "vlan" for the outer VLAN id',
      wrap(parseIfIndex),
    )
    .option(
      '--max-flows <n>',
      'flow cache size; the oldest flow is exported early when full',
      wrap((v) => positiveNumber('--max-flows', v, true)),
      65536,
    )
    .option(
      '--domain <n>',
      'v5 engine id (low 8 bits), v9 source id, IPFIX observation domain',
      wrap((v) => {
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 0xffffffff) throw new Error(`--domain: 0-4294967295, got ${v}`);
        return n;
      }),
      0,
    )
    .option(
      '--template-refresh <s>',
      'resend v9/IPFIX templates after this many seconds',
      wrap((v) => positiveNumber('--template-refresh', v)),
      60,
    )
    .option(
      '--template-refresh-packets <n>',
      'resend v9/IPFIX templates after this many datagrams',
      wrap((v) => positiveNumber('--template-refresh-packets', v, true)),
      20,
    )
    .option(
      '--stats-interval <s>',
      'print statistics to stderr every S seconds (0: only at exit)',
      wrap((v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0)
          throw new Error(`--stats-interval: seconds >= 0, got ${v}`);
        return n;
      }),
      10,
    )
    .option(
      '--metrics <host:port>',
      'serve OpenTelemetry metrics as Prometheus text at http://HOST:PORT/metrics',
      wrap(parseListen),
    )
    .option('--config <file>', 'read the settings from a YAML file (flags given win over it)')
    .option('--filter <bpf>', 'live capture only: a tcpdump filter expression')
    .option('--tcpdump <path>', 'live capture only: the tcpdump binary (default: found on PATH)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice export --pcap traffic.pcap --to 127.0.0.1:2055,version=5 --to [::1]:4739,version=10\n' +
        '  sudo sluice export --interface eth0 --to collector.example:2055 --sample 100\n' +
        "\nA capture file is read in capture time: flows time out by the packets' timestamps and\n" +
        'everything left is exported at the end of the file. Live capture runs tcpdump, which\n' +
        'needs root or CAP_NET_RAW (setcap cap_net_raw,cap_net_admin=eip $(which tcpdump)).\n' +
        'Ctrl-C or SIGTERM exports what is in the cache, prints the statistics and exits.\n' +
        'NetFlow v5 carries IPv4 only: IPv6 flows are counted and not sent to v5 destinations.\n' +
        '--config FILE: the same settings in YAML, snake_case (pcap, interface, to: [HOST:PORT,\n' +
        'version=N or {host, port, version}], sample, active_timeout, inactive_timeout, if_index,\n' +
        'max_flows, domain, template_refresh, template_refresh_packets, stats_interval, filter,\n' +
        'tcpdump, metrics).',
    )
    .action(async (opts: ExportCliOptions, cmd: Command) => {
      if (opts.config !== undefined) {
        let file: ExportFileSettings;
        try {
          file = readExportConfig(opts.config);
        } catch (e) {
          process.stderr.write(`sluice export: ${(e as Error).message}\n`);
          process.exitCode = 2;
          return;
        }
        opts = mergeConfig(opts, file, (k) => cmd.getOptionValueSource(k) === 'cli');
      }
      process.exitCode = await runExport(opts);
    });
}

/** The file's settings under the flags given on the command line. */
function mergeConfig(
  opts: ExportCliOptions,
  file: ExportFileSettings,
  fromCli: (key: string) => boolean,
): ExportCliOptions {
  const out: ExportCliOptions = { ...opts };
  const sourceOnCli = fromCli('pcap') || fromCli('interface');
  for (const [k, v] of Object.entries(file) as [keyof ExportFileSettings, unknown][]) {
    if (v === undefined) continue;
    if ((k === 'pcap' || k === 'interface') && sourceOnCli) continue;
    if (fromCli(k)) continue;
    (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

async function runExport(opts: ExportCliOptions): Promise<number> {
  const err = (m: string) => process.stderr.write(`sluice export: ${m}\n`);
  if ((opts.pcap === undefined) === (opts.interface === undefined)) {
    err('give exactly one of --pcap FILE or --interface IF');
    return 2;
  }
  if (opts.to.length === 0) {
    err('give at least one --to HOST:PORT[,version=5|9|10|sflow]');
    return 2;
  }
  const exporterOpts: ExporterOptions = {
    targets: opts.to,
    sampleEvery: opts.sample,
    cache: {
      activeTimeoutMs: opts.activeTimeout * 1000,
      inactiveTimeoutMs: opts.inactiveTimeout * 1000,
      maxFlows: opts.maxFlows,
    },
    ...(opts.ifIndex ? { ifIndex: opts.ifIndex } : {}),
    domain: opts.domain,
    templateRefreshMs: opts.templateRefresh * 1000,
    templateRefreshPackets: opts.templateRefreshPackets,
    log: (m) => err(m),
  };
  let exporter: SoftwareExporter;
  try {
    exporter = new SoftwareExporter(exporterOpts);
  } catch (e) {
    err((e as Error).message);
    return 2;
  }
  let metrics: ExportMetricsServer | undefined;
  if (opts.metrics !== undefined) {
    try {
      metrics = await startExportMetrics(() => exporter.stats(), opts.metrics);
      err(`metrics at ${metrics.url}`);
    } catch (e) {
      err(`--metrics ${opts.metrics.host}:${opts.metrics.port}: ${(e as Error).message}`);
      return 1;
    }
  }
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    err(`${sig}: exporting the flows in the cache and stopping`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timers: NodeJS.Timeout[] = [];
  if (opts.statsInterval > 0) {
    timers.push(
      setInterval(
        () => process.stderr.write(`${formatStats(exporter.stats(), false)}\n`),
        opts.statsInterval * 1000,
      ),
    );
  }
  let code = 0;
  try {
    if (opts.pcap !== undefined) {
      const end = await feedCapture(exporter, captureFile(opts.pcap), abort.signal);
      if (end.error) {
        err(`${opts.pcap}: ${end.error.reason}: ${end.error.message}`);
        if (end.frames === 0) code = 1;
      }
    } else {
      const tcpdump = opts.tcpdump ?? findExecutable('tcpdump');
      if (!tcpdump) {
        err(
          'live capture needs tcpdump (apt-get install -y tcpdump), run as root or with CAP_NET_RAW',
        );
        return 1;
      }
      await exporter.start(Date.now());
      timers.push(setInterval(() => exporter.tick(Date.now()), 1000));
      const live = startTcpdump(
        tcpdump,
        opts.interface as string,
        opts.filter ? [opts.filter] : [],
      );
      abort.signal.addEventListener('abort', () => live.stop(), { once: true });
      const exited = new Promise<number | null>((resolve) =>
        live.child.on('exit', (c) => resolve(c)),
      );
      const end = await feedCapture(exporter, live.stdout, abort.signal);
      const exitCode = await exited;
      if (!abort.signal.aborted && exitCode !== 0) {
        err(
          `tcpdump exited with ${exitCode}: ${live.stderr().trim() || '(no message)'} (capturing needs root or CAP_NET_RAW)`,
        );
        code = 1;
      } else if (end.error && end.frames === 0 && !abort.signal.aborted) {
        err(`capture from ${opts.interface}: ${end.error.message}`);
        code = 1;
      }
    }
  } catch (e) {
    err((e as Error).message);
    code = 1;
  } finally {
    for (const t of timers) clearInterval(t);
    await exporter.finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stderr.write(`${formatStats(exporter.stats(), true)}\n`);
    await metrics?.close();
  }
  return code;
}
