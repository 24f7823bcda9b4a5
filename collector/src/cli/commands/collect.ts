import { Command } from 'commander';
import { createLogger } from '../../api/logging.js';
import { Collector } from '../../collect/collector.js';
import { applyEnvOverrides, blameEnv } from '../../config/env.js';
import { ConfigError, readConfigFile, resolveConfig, validateConfig } from '../../config/load.js';
import type { CollectConfigFile } from '../../config/schema.js';

/** Defaults of `sluice collect`; documented in --help and the README. */
export const COLLECT_DEFAULTS = {
  ports: '2055,4739,6343',
  elasticsearchUrl: 'http://localhost:9200',
  dataStream: 'logs-netflow.sluice-default',
  httpListen: '127.0.0.1:9850',
  dataDir: './sluice-data',
} as const;

interface CollectFlags {
  config?: string;
  listen?: string;
  elasticsearch?: string;
  dataStream?: string;
  dataDir?: string;
  http?: string;
  workers?: string;
  allow?: string;
  logLevel?: string;
}

/** "2055,[::1]:9995,0.0.0.0:6343" -> listeners. */
function parseListen(v: string): { port: number; address?: string }[] {
  return v.split(',').map((part) => {
    const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(part.trim());
    if (!m) throw new ConfigError(`--listen: "${part}" is not PORT or ADDRESS:PORT`);
    return m[1] ? { port: Number(m[2]), address: m[1] } : { port: Number(m[2]) };
  });
}

/**
 * The environment (SLUICE_* variables) overrides the file and flags override both; the
 * merged object is validated as a whole, so errors name keys (and the variable, if any).
 */
export function merge(
  fromFile: CollectConfigFile,
  f: CollectFlags,
  env: NodeJS.ProcessEnv = process.env,
): { config: CollectConfigFile; sources: Map<string, string> } {
  const { config: file, sources } = applyEnvOverrides(fromFile, env) as {
    config: CollectConfigFile;
    sources: Map<string, string>;
  };
  const out: Record<string, unknown> = { ...file };
  const flagKeys: Record<keyof CollectFlags, string> = {
    config: '',
    listen: 'listen',
    elasticsearch: 'elasticsearch.url',
    dataStream: 'elasticsearch.data_stream',
    dataDir: 'data_dir',
    http: 'http.listen',
    workers: 'workers',
    allow: 'allow',
    logLevel: 'log_level',
  };
  for (const [flag, key] of Object.entries(flagKeys)) {
    if (f[flag as keyof CollectFlags] !== undefined) sources.delete(key);
  }
  if (f.listen !== undefined) out.listen = parseListen(f.listen);
  if (f.dataDir !== undefined) out.data_dir = f.dataDir;
  if (f.workers !== undefined) out.workers = f.workers === 'auto' ? 'auto' : Number(f.workers);
  if (f.allow !== undefined)
    out.allow = f.allow
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (f.logLevel !== undefined) out.log_level = f.logLevel;
  if (f.http !== undefined) out.http = { ...file.http, listen: f.http };
  if (f.elasticsearch !== undefined || f.dataStream !== undefined) {
    out.elasticsearch = {
      ...file.elasticsearch,
      ...(f.elasticsearch !== undefined ? { url: f.elasticsearch } : {}),
      ...(f.dataStream !== undefined ? { data_stream: f.dataStream } : {}),
    };
  }
  try {
    return { config: validateConfig(out, 'configuration'), sources };
  } catch (err) {
    throw err instanceof ConfigError ? blameEnv(err, sources) : err;
  }
}

export function collectCommand(): Command {
  return new Command('collect')
    .description(
      'Receive flow exports over UDP, store every record in Elasticsearch and export ' +
        'aggregate OpenTelemetry metrics (the main job).',
    )
    .option('-c, --config <file>', 'YAML or JSON configuration file (see README: Configuration)')
    .option(
      '--listen <ports>',
      `UDP listeners, comma-separated PORT or ADDRESS:PORT; any format on any port (default: ${COLLECT_DEFAULTS.ports} on all addresses, IPv4 and IPv6)`,
    )
    .option(
      '--elasticsearch <url>',
      `Elasticsearch URL (default: ${COLLECT_DEFAULTS.elasticsearchUrl}, env: SLUICE_ELASTICSEARCH_URL)`,
    )
    .option(
      '--data-stream <name>',
      `data stream for the records (default: ${COLLECT_DEFAULTS.dataStream})`,
    )
    .option(
      '--data-dir <dir>',
      `journal, checkpoint, templates, dead letters (default: ${COLLECT_DEFAULTS.dataDir})`,
    )
    .option(
      '--http <host:port>',
      `health, readiness and /metrics (default: ${COLLECT_DEFAULTS.httpListen})`,
    )
    .option('--workers <n>', 'decode worker threads, or auto (default: cores - 1, at least 1)')
    .option('--allow <cidrs>', 'accept exporters from these networks only, comma-separated')
    .option('--log-level <level>', 'trace, debug, info, warn, error (default: info)')
    .addHelpText(
      'after',
      '\nEvery datagram is appended to an on-disk journal before it is decoded; documents are\n' +
        'indexed from the journal with ids derived from its positions, so an Elasticsearch\n' +
        'outage or a restart loses and duplicates nothing. Ctrl-C stops gracefully.\n' +
        '\nEnvironment: every config key has a SLUICE_<KEY> variable (elasticsearch.url ->\n' +
        'SLUICE_ELASTICSEARCH_URL, http.tokens -> SLUICE_HTTP_TOKENS, comma-separated);\n' +
        'they override the file, flags override both.\n' +
        '\nExamples:\n' +
        '  sluice collect\n' +
        '  sluice collect --listen 9995 --elasticsearch https://elastic:secret@es:9200\n' +
        '  sluice collect --config /etc/sluice/sluice.yaml',
    )
    .action(async (flags: CollectFlags, cmd: Command) => {
      let config: ReturnType<typeof resolveConfig>;
      try {
        const file = flags.config !== undefined ? readConfigFile(flags.config) : {};
        const merged = merge(file, flags);
        try {
          config = resolveConfig(merged.config);
        } catch (err) {
          throw err instanceof ConfigError ? blameEnv(err, merged.sources) : err;
        }
      } catch (err) {
        if (err instanceof ConfigError)
          cmd.error(`sluice collect: ${err.message}`, { exitCode: 2 });
        throw err;
      }
      const log = createLogger({ level: config.logLevel as 'info' });
      let collector: Collector;
      try {
        collector = await Collector.start(config, log);
      } catch (err) {
        log.fatal({ err }, 'cannot start');
        process.exitCode = 1;
        return;
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'stopping');
          collector.stop().then(resolve, (err: unknown) => {
            log.error({ err }, 'error while stopping');
            resolve();
          });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
