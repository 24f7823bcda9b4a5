/**
 * The Elasticsearch client of the collector (the v8 client: it talks to 8.x and 9.x),
 * built from configuration, and a description of it that is safe to log.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { CollectorSerializer } from './serializer.js';

export const DEFAULT_ELASTICSEARCH_URL = 'http://localhost:9200';
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ElasticsearchTlsConfig {
  /** PEM file of the CA that signed the cluster's certificate. */
  caFile?: string;
  /** Verify the server certificate (default true). Turn off only for tests. */
  rejectUnauthorized?: boolean;
}

export interface ElasticsearchConfig {
  /** One node; `urls` for several. Default {@link DEFAULT_ELASTICSEARCH_URL}. */
  url?: string;
  urls?: string[];
  /** Basic authentication. */
  username?: string;
  password?: string;
  /** API key: the base64 `id:api_key` encoding, or its two parts. */
  apiKey?: string | { id: string; api_key: string };
  tls?: ElasticsearchTlsConfig;
  /** Per-request timeout (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). */
  requestTimeoutMs?: number;
  /** Gzip request bodies (less network, more CPU). Default false. */
  compression?: boolean;
}

function nodesOf(config: ElasticsearchConfig): string[] {
  const urls = config.urls ?? (config.url !== undefined ? [config.url] : []);
  return urls.length > 0 ? urls : [DEFAULT_ELASTICSEARCH_URL];
}

function authOf(config: ElasticsearchConfig): ClientOptions['auth'] {
  if (config.apiKey !== undefined && config.username !== undefined) {
    throw new Error('Elasticsearch: configure either an API key or a username, not both');
  }
  if (config.apiKey !== undefined) return { apiKey: config.apiKey };
  if (config.username !== undefined) {
    if (config.password === undefined) {
      throw new Error('Elasticsearch: a username needs a password');
    }
    return { username: config.username, password: config.password };
  }
  return undefined;
}

/**
 * The client. The transport's own retries stay at the library default for one-off
 * calls (template install, health); the bulk indexer turns them off per request and
 * retries with its own backoff.
 */
export function createElasticsearchClient(config: ElasticsearchConfig = {}): Client {
  const nodes = nodesOf(config);
  const options: ClientOptions = {
    nodes,
    requestTimeout: config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    compression: config.compression ?? false,
    name: 'sluice',
    Serializer: CollectorSerializer,
  };
  const auth = authOf(config);
  if (auth !== undefined) options.auth = auth;
  if (config.tls !== undefined) {
    const tls: NonNullable<ClientOptions['tls']> = {};
    if (config.tls.caFile !== undefined) {
      try {
        tls.ca = readFileSync(config.tls.caFile);
      } catch (err) {
        throw new Error(
          `Elasticsearch: cannot read the CA file ${config.tls.caFile}: ${(err as Error).message}`,
        );
      }
    }
    if (config.tls.rejectUnauthorized !== undefined) {
      tls.rejectUnauthorized = config.tls.rejectUnauthorized;
    }
    options.tls = tls;
  }
  return new Client(options);
}

/** A URL without user info, query or fragment (they may carry credentials). */
function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    const hadCredentials = u.username !== '' || u.password !== '';
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    const text = u.toString().replace(/\/$/, '');
    return hadCredentials ? `${text} (credentials in URL)` : text;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * One line for logs: nodes, kind of authentication, TLS and timeout. Never contains a
 * password, an API key or credentials embedded in a URL; the username is shown.
 */
export function redactedDescription(config: ElasticsearchConfig = {}): string {
  const nodes = nodesOf(config).map(safeUrl).join(', ');
  const parts: string[] = [];
  if (config.apiKey !== undefined) parts.push('auth: API key');
  else if (config.username !== undefined) parts.push(`auth: basic as ${config.username}`);
  else parts.push('auth: none');
  if (config.tls !== undefined) {
    const verify = config.tls.rejectUnauthorized === false ? 'NOT verified' : 'verified';
    const ca = config.tls.caFile !== undefined ? `, CA ${config.tls.caFile}` : '';
    parts.push(`TLS certificates ${verify}${ca}`);
  }
  parts.push(`timeout ${config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS} ms`);
  if (config.compression) parts.push('gzip');
  return `Elasticsearch ${nodes} (${parts.join('; ')})`;
}
