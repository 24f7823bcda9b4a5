// Environment overrides for `sluice collect`: SLUICE_<KEY> variables mapped onto config keys.
//
// Every key of the configuration schema has a variable: the dotted key upper-cased with
// underscores, e.g. elasticsearch.url -> SLUICE_ELASTICSEARCH_URL, http.tokens ->
// SLUICE_HTTP_TOKENS, journal.fsync -> SLUICE_JOURNAL_FSYNC. Values are text; they are
// turned into what the schema expects (numbers, booleans, comma-separated lists,
// "k=v,k=v" maps, listeners as for --listen) and then validated with the rest of the
// configuration, so an error names the key and the variable it came from.
// Precedence: file < environment < command-line flags. Empty variables are ignored.
import { ConfigError } from './load.js';
import { CollectConfigSchema } from './schema.js';

/** The parts of a TypeBox (JSON Schema) node this module looks at. */
interface SchemaNode {
  type?: string;
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  const?: unknown;
}

export interface EnvVariable {
  /** e.g. SLUICE_ELASTICSEARCH_URL */
  name: string;
  /** The dotted config key, e.g. elasticsearch.url */
  key: string;
  path: string[];
  schema: SchemaNode;
}

const PREFIX = 'SLUICE_';

function walk(node: SchemaNode, path: string[], out: EnvVariable[]): void {
  if (node.type === 'object' && node.properties !== undefined) {
    for (const [k, child] of Object.entries(node.properties)) walk(child, [...path, k], out);
    return;
  }
  out.push({
    name: PREFIX + path.join('_').toUpperCase(),
    key: path.join('.'),
    path,
    schema: node,
  });
}

/** Every variable `sluice collect` reads, in schema order. */
export const ENV_VARIABLES: readonly EnvVariable[] = (() => {
  const out: EnvVariable[] = [];
  walk(CollectConfigSchema as SchemaNode, [], out);
  return out;
})();

function kinds(s: SchemaNode): Set<string> {
  const out = new Set<string>();
  const visit = (n: SchemaNode) => {
    if (n.anyOf) for (const a of n.anyOf) visit(a);
    else if (n.type !== undefined) out.add(n.type);
  };
  visit(s);
  return out;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** "2055,[::1]:9995,0.0.0.0:6343" -> listeners (left as text when malformed: the schema says why). */
function listeners(text: string): unknown {
  const out: { port: number; address?: string }[] = [];
  for (const part of list(text)) {
    const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(part);
    if (!m) return text;
    out.push(m[1] ? { port: Number(m[2]), address: m[1] } : { port: Number(m[2]) });
  }
  return out;
}

/** Turns a variable's text into the value the schema expects, when it can. */
function coerce(v: EnvVariable, text: string): unknown {
  const s = v.schema;
  if (v.key === 'listen') return listeners(text);
  if (s.type === 'array') return list(text);
  if (s.type === 'object') {
    // Maps such as sampling.overrides or metrics.otlp_headers: "k=v,k=v".
    const values = s.patternProperties ? Object.values(s.patternProperties)[0] : undefined;
    const numeric = values !== undefined && kinds(values).has('integer');
    const out: Record<string, unknown> = {};
    for (const pair of list(text)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return text;
      const val = pair.slice(eq + 1).trim();
      out[pair.slice(0, eq).trim()] = numeric && NUMBER.test(val) ? Number(val) : val;
    }
    return out;
  }
  const k = kinds(s);
  const t = text.trim();
  if ((k.has('integer') || k.has('number')) && NUMBER.test(t)) return Number(t);
  if (k.has('boolean')) {
    if (/^(true|yes|on|1)$/i.test(t)) return true;
    if (/^(false|no|off|0)$/i.test(t)) return false;
  }
  return text;
}

export interface EnvOverrides {
  /** The configuration with the variables applied (not yet validated). */
  config: Record<string, unknown>;
  /** Config key -> the variable that set it. */
  sources: Map<string, string>;
}

/** Applies SLUICE_* variables over a configuration file's content (file < environment). */
export function applyEnvOverrides(
  file: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): EnvOverrides {
  const config: Record<string, unknown> = { ...file };
  const sources = new Map<string, string>();
  for (const v of ENV_VARIABLES) {
    const text = env[v.name];
    if (text === undefined || text === '') continue;
    let node = config;
    for (const part of v.path.slice(0, -1)) {
      const cur = node[part];
      const copy: Record<string, unknown> =
        typeof cur === 'object' && cur !== null && !Array.isArray(cur)
          ? { ...(cur as Record<string, unknown>) }
          : {};
      node[part] = copy;
      node = copy;
    }
    node[v.path[v.path.length - 1] as string] = coerce(v, text);
    sources.set(v.key, v.name);
  }
  return { config, sources };
}

/**
 * Adds "(from SLUICE_X)" to each line of a configuration error that names a key set by
 * an environment variable.
 */
export function blameEnv(err: ConfigError, sources: ReadonlyMap<string, string>): ConfigError {
  if (sources.size === 0) return err;
  const lines = err.message.split('\n').map((line) => {
    const m = /^\s+([\w.]+): /.exec(line) ?? /config keys? ([\w.]+)/.exec(line);
    const key = m?.[1];
    if (key === undefined) return line;
    for (const [k, name] of sources) {
      if (key === k || key.startsWith(`${k}.`))
        return `${line} (from environment variable ${name})`;
    }
    return line;
  });
  return new ConfigError(lines.join('\n'));
}
