/**
 * The composable index template of Sluice's data stream: installed at start, verified
 * on every start, and replaced when this build's mappings differ from the installed ones.
 */
import { createHash } from 'node:crypto';
import { type Client, errors } from '@elastic/elasticsearch';
import { countFields, type FlowMappings, flowMappings } from './mappings.js';

/** Default data stream (`type-dataset-namespace`, Elastic's naming scheme). */
export const DEFAULT_DATA_STREAM = 'logs-netflow.sluice-default';
/** Above Elasticsearch's built-in `logs` template (priority 100, `logs-*-*`). */
export const DEFAULT_TEMPLATE_PRIORITY = 200;
/**
 * Schema generation of the template: bump it when a change must not be undone by an
 * older collector. Within one generation, the content hash in `_meta` decides.
 */
export const TEMPLATE_SCHEMA_VERSION = 1;
/** Room for fields nobody knows in advance (unknown enterprise elements, sFlow records). */
const DYNAMIC_FIELD_HEADROOM = 5000;
const IGNORE_BEYOND_LIMIT = 'index.mapping.total_fields.ignore_dynamic_beyond_limit';

export interface IndexTemplateOptions {
  /** Data stream the collector writes to; default {@link DEFAULT_DATA_STREAM}. */
  dataStream?: string;
  /** Template name; default `<type>-<dataset>` of the data stream (`logs-netflow.sluice`). */
  name?: string;
  /** Index patterns; default `<type>-<dataset>-*` (every namespace of the dataset). */
  indexPatterns?: string[];
  /** Default {@link DEFAULT_TEMPLATE_PRIORITY}. */
  priority?: number;
  /** Extra index settings merged over Sluice's (replicas, ILM policy, codec...). */
  settings?: Record<string, unknown>;
  /**
   * When the template changed and the data stream exists, roll it over so the new
   * mappings apply now rather than at the next rollover. Default true.
   */
  rollover?: boolean;
  /**
   * Keep new dynamic fields beyond the field limit in `_source` only instead of rejecting
   * the document (`index.mapping.total_fields.ignore_dynamic_beyond_limit`, Elasticsearch
   * 8.14+). Default true; left out automatically when the server does not know it.
   */
  ignoreDynamicBeyondLimit?: boolean;
}

export interface IndexTemplateBody {
  index_patterns: string[];
  data_stream: Record<string, never>;
  priority: number;
  version: number;
  _meta: { sluice_template_version: string; managed_by: 'sluice'; description: string };
  template: { settings: Record<string, unknown>; mappings: FlowMappings };
}

export type TemplateAction = 'created' | 'updated' | 'unchanged' | 'newer-installed';

export interface InstallResult {
  name: string;
  action: TemplateAction;
  /** The version string in `_meta.sluice_template_version` now in force. */
  version: string;
  /** Installed version before this call, when there was one. */
  previousVersion: string | undefined;
  /** True when the data stream was rolled over to pick up the new mappings. */
  rolledOver: boolean;
  /** Total field limit set on the indices. */
  totalFieldsLimit: number;
}

/** `type-dataset` and the pattern of every namespace, from `type-dataset-namespace`. */
export function dataStreamParts(dataStream: string): { prefix: string; pattern: string } {
  const cut = dataStream.lastIndexOf('-');
  if (cut <= 0 || cut === dataStream.length - 1 || dataStream.indexOf('-') === cut) {
    throw new Error(
      `data stream name must be <type>-<dataset>-<namespace> (e.g. ${DEFAULT_DATA_STREAM}): ${dataStream}`,
    );
  }
  if (dataStream !== dataStream.toLowerCase() || /[\\/*?"<>| ,#:]/.test(dataStream)) {
    throw new Error(`data stream name must be lowercase without \\/*?"<>| ,#: : ${dataStream}`);
  }
  const prefix = dataStream.slice(0, cut);
  return { prefix, pattern: `${prefix}-*` };
}

/** Stable JSON (sorted keys) so the content hash does not depend on property order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The template body (pure): what {@link installIndexTemplate} puts. */
export function buildIndexTemplate(opts: IndexTemplateOptions = {}): IndexTemplateBody {
  const dataStream = opts.dataStream ?? DEFAULT_DATA_STREAM;
  const { pattern } = dataStreamParts(dataStream);
  const mappings = flowMappings();
  const totalFieldsLimit =
    Math.ceil((countFields(mappings.properties) + DYNAMIC_FIELD_HEADROOM) / 1000) * 1000;
  const settings: Record<string, unknown> = {
    'index.mapping.total_fields.limit': totalFieldsLimit,
  };
  if (opts.ignoreDynamicBeyondLimit ?? true) {
    // Past the limit, new dynamic fields are kept in _source only, not a rejection.
    settings[IGNORE_BEYOND_LIMIT] = true;
  }
  Object.assign(settings, opts.settings);
  const indexPatterns = opts.indexPatterns ?? [pattern];
  const priority = opts.priority ?? DEFAULT_TEMPLATE_PRIORITY;
  const content = { indexPatterns, priority, settings, mappings };
  const hash = createHash('sha256').update(canonical(content)).digest('hex').slice(0, 16);
  return {
    index_patterns: indexPatterns,
    data_stream: {},
    priority,
    version: TEMPLATE_SCHEMA_VERSION,
    _meta: {
      sluice_template_version: `${TEMPLATE_SCHEMA_VERSION}-${hash}`,
      managed_by: 'sluice',
      description: 'Flow records from Sluice (ECS + netflow.* + sflow.*)',
    },
    template: { settings, mappings },
  };
}

interface InstalledTemplate {
  version?: number;
  _meta?: { sluice_template_version?: unknown };
}

async function installedTemplate(
  client: Client,
  name: string,
): Promise<InstalledTemplate | undefined> {
  try {
    const res = await client.indices.getIndexTemplate({ name });
    const found = res.index_templates.find((t) => t.name === name);
    return found?.index_template as InstalledTemplate | undefined;
  } catch (err) {
    if (err instanceof errors.ResponseError && err.statusCode === 404) return undefined;
    throw err;
  }
}

async function dataStreamExists(client: Client, dataStream: string): Promise<boolean> {
  // The resolve API answers on every distribution (the _data_stream endpoints may be absent).
  const res = await client.indices.resolveIndex({ name: dataStream, expand_wildcards: 'all' });
  return res.data_streams.some((d) => d.name === dataStream);
}

function unknownSetting(err: unknown, setting: string): boolean {
  return (
    err instanceof errors.ResponseError &&
    err.statusCode === 400 &&
    JSON.stringify(err.body ?? '').includes(setting)
  );
}

async function putTemplate(client: Client, name: string, body: IndexTemplateBody): Promise<void> {
  await client.indices.putIndexTemplate({
    name,
    index_patterns: body.index_patterns,
    data_stream: body.data_stream,
    priority: body.priority,
    version: body.version,
    _meta: body._meta,
    template: body.template,
  });
}

/**
 * Installs the index template, or verifies it: an installed template with the same
 * `_meta.sluice_template_version` is left alone; a different one of the same or an older
 * schema generation is replaced (and the data stream rolled over so the new mappings
 * apply at once); a newer generation, installed by a newer Sluice, is never downgraded.
 */
export async function installIndexTemplate(
  client: Client,
  opts: IndexTemplateOptions = {},
): Promise<InstallResult> {
  const dataStream = opts.dataStream ?? DEFAULT_DATA_STREAM;
  const name = opts.name ?? dataStreamParts(dataStream).prefix;
  let body = buildIndexTemplate(opts);
  // What a server without the 8.14 setting got from an earlier start: also current.
  const fallback =
    (opts.ignoreDynamicBeyondLimit ?? true)
      ? buildIndexTemplate({ ...opts, ignoreDynamicBeyondLimit: false })
      : undefined;
  const current = await installedTemplate(client, name);
  const previous = current?._meta?.sluice_template_version;
  const previousVersion = typeof previous === 'string' ? previous : undefined;
  const limit = (b: IndexTemplateBody): number =>
    b.template.settings['index.mapping.total_fields.limit'] as number;
  const base = { name, previousVersion, totalFieldsLimit: limit(body) };
  for (const b of [body, fallback]) {
    if (b !== undefined && previousVersion === b._meta.sluice_template_version) {
      return { ...base, action: 'unchanged', version: previousVersion, rolledOver: false };
    }
  }
  if (current?.version !== undefined && current.version > TEMPLATE_SCHEMA_VERSION) {
    return {
      ...base,
      action: 'newer-installed',
      version: previousVersion ?? String(current.version),
      rolledOver: false,
    };
  }
  try {
    await putTemplate(client, name, body);
  } catch (err) {
    if (fallback === undefined || !unknownSetting(err, IGNORE_BEYOND_LIMIT)) throw err;
    body = fallback;
    await putTemplate(client, name, body);
  }
  let rolledOver = false;
  if (
    current !== undefined &&
    (opts.rollover ?? true) &&
    (await dataStreamExists(client, dataStream))
  ) {
    await client.indices.rollover({ alias: dataStream });
    rolledOver = true;
  }
  return {
    ...base,
    action: current === undefined ? 'created' : 'updated',
    version: body._meta.sluice_template_version,
    rolledOver,
  };
}
