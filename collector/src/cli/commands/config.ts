import { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { applyEnvOverrides, blameEnv } from '../../config/env.js';
import {
  type CollectConfig,
  ConfigError,
  readConfigFile,
  resolveConfig,
  validateConfig,
} from '../../config/load.js';

const REDACTED = '***';

/** "https://elastic:secret@es:9200" -> "https://elastic:***@es:9200". */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = REDACTED;
    return u.toString().replace('%2A%2A%2A', REDACTED);
  } catch {
    return url;
  }
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Config keys as in the file (snake_case); maps under `sampling.overrides` etc. kept as is. */
function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k), snakeKeys(x)]));
}

/**
 * The resolved configuration as plain data, secrets replaced by "***": passwords, API
 * keys, bearer tokens, OTLP header values and credentials inside URLs.
 */
export function redactedConfig(c: CollectConfig): Record<string, unknown> {
  const secret = (v: string | undefined) => (v === undefined ? undefined : REDACTED);
  const out = snakeKeys({
    ...c,
    elasticsearch: {
      ...c.elasticsearch,
      url: redactUrl(c.elasticsearch.url),
      password: secret(c.elasticsearch.password),
      apiKey: secret(c.elasticsearch.apiKey),
    },
    sampling: { defaultRate: c.sampling.defaultRate, overrides: {} },
    metrics: {
      ...c.metrics,
      otlpEndpoint:
        c.metrics.otlpEndpoint === undefined ? undefined : redactUrl(c.metrics.otlpEndpoint),
      otlpHeaders: {},
    },
    http: { ...c.http, tokens: c.http.tokens.map(() => REDACTED) },
    query: {
      ...c.query,
      prometheusUrl:
        c.query.prometheusUrl === undefined ? undefined : redactUrl(c.query.prometheusUrl),
    },
  }) as Record<string, Record<string, unknown>>;
  // Maps whose keys are data (addresses, header names), not config keys.
  (out.sampling as Record<string, unknown>).overrides = Object.fromEntries(c.sampling.overrides);
  (out.metrics as Record<string, unknown>).otlp_headers = Object.fromEntries(
    Object.keys(c.metrics.otlpHeaders).map((k) => [k, REDACTED]),
  );
  return out;
}

interface CheckFlags {
  env?: boolean;
}

/** `sluice config check FILE`: validate a configuration file and show what it resolves to. */
export function configCommand(): Command {
  const config = new Command('config').description(
    'Work with `sluice collect` configuration files.',
  );
  config
    .command('check')
    .description(
      'Validate a YAML or JSON configuration file (schema, units, networks) and print the ' +
        'resolved configuration, every default filled in, as YAML with secrets redacted. ' +
        'Exit 0 when valid; 2 with the key and the problem otherwise.',
    )
    .argument('<file>', 'configuration file')
    .option('--env', 'apply SLUICE_* environment overrides, as `sluice collect` would')
    .action((file: string, flags: CheckFlags, cmd: Command) => {
      let resolved: CollectConfig;
      try {
        let sources = new Map<string, string>();
        let data: Record<string, unknown> = readConfigFile(file);
        if (flags.env) ({ config: data, sources } = applyEnvOverrides(data));
        try {
          resolved = resolveConfig(validateConfig(data, flags.env ? 'configuration' : file));
        } catch (err) {
          throw err instanceof ConfigError ? blameEnv(err, sources) : err;
        }
      } catch (err) {
        if (err instanceof ConfigError) {
          cmd.error(`sluice config check: ${err.message}`, { exitCode: 2 });
        }
        throw err;
      }
      process.stdout.write(toYaml(redactedConfig(resolved)));
    });
  return config;
}
