import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ServerUnavailableError } from './errors.js';
import { CACHE_DIR, TEST_DIR } from './paths.js';
import { freePort } from './ports.js';
import { type ManagedProcess, startProcess } from './process.js';
import { which } from './which.js';

const POM = join(TEST_DIR, 'elasticsearch', 'pom.xml');
const ES_CACHE = join(CACHE_DIR, 'elasticsearch');
/** Unprivileged account the node runs as when we are root (Elasticsearch refuses root). */
const ES_USER = process.env.SLUICE_TEST_ES_USER ?? 'sluice-es';

/** The Elasticsearch version the harness runs, read from the pom (one place to change it). */
export const ELASTICSEARCH_VERSION: string = (() => {
  const pom = readFileSync(POM, 'utf8');
  const m = /<artifactId>elasticsearch<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(pom);
  if (!m?.[1]) throw new Error(`no Elasticsearch version found in ${POM}`);
  return m[1];
})();

export interface ElasticsearchServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  /** Version the node reports (GET _nodes). */
  readonly version: string;
  /** True when the URL came from SLUICE_TEST_ES_URL rather than a node we started. */
  readonly external: boolean;
  /**
   * The process group of the node we started (its launcher and server JVMs), for reading
   * its CPU use from /proc; undefined for an external node.
   */
  readonly processGroup?: number | undefined;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

function javaHome(): string {
  const fromEnv = process.env.ES_JAVA_HOME ?? process.env.JAVA_HOME;
  if (fromEnv && existsSync(join(fromEnv, 'bin', 'java'))) return fromEnv;
  const java = which('java');
  if (!java) {
    throw new ServerUnavailableError(
      'Elasticsearch needs Java 17 or newer: apt-get install -y openjdk-17-jre-headless (or set ES_JAVA_HOME)',
    );
  }
  return dirname(dirname(realpathSync(java)));
}

/** Fetches and unpacks the distribution from Maven Central once; later runs are offline. */
export function ensureElasticsearchHome(): string {
  const home = join(ES_CACHE, `elasticsearch-${ELASTICSEARCH_VERSION}`);
  if (existsSync(join(home, 'bin', 'elasticsearch'))) return home;
  const mvn = which('mvn');
  if (!mvn) {
    throw new ServerUnavailableError(
      'fetching the Elasticsearch test node needs Maven: apt-get install -y maven',
    );
  }
  mkdirSync(ES_CACHE, { recursive: true });
  const res = spawnSync(
    mvn,
    ['-q', '-B', '-f', POM, 'dependency:unpack-dependencies', `-DoutputDirectory=${ES_CACHE}`],
    { encoding: 'utf8', env: { ...process.env, JAVA_HOME: javaHome() } },
  );
  if (res.status !== 0 || !existsSync(join(home, 'bin', 'elasticsearch'))) {
    throw new ServerUnavailableError(
      `could not fetch Elasticsearch ${ELASTICSEARCH_VERSION} with Maven (exit ${res.status}):\n${res.stdout}${res.stderr}`,
    );
  }
  return home;
}

interface Account {
  uid: number;
  gid: number;
}

/** When root, the node runs as an unprivileged system account, created on first use. */
function serviceAccount(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = (): Account | undefined => {
    const res = spawnSync('id', [ES_USER], { encoding: 'utf8' });
    if (res.status !== 0) return undefined;
    const uid = /uid=(\d+)/.exec(res.stdout)?.[1];
    const gid = /gid=(\d+)/.exec(res.stdout)?.[1];
    return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
  };
  const found = lookup();
  if (found) return found;
  execFileSync('useradd', [
    '--system',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    ES_USER,
  ]);
  const created = lookup();
  if (!created) throw new Error(`could not create the ${ES_USER} account`);
  return created;
}

/**
 * The distribution must be readable by the account the node runs as. A checkout under
 * a private home directory is not; then a copy is made in the system temp dir, once.
 */
function readableHome(home: string, account: Account | undefined): string {
  if (!account) return home;
  const probe = join(home, 'lib', `elasticsearch-${ELASTICSEARCH_VERSION}.jar`);
  const res = spawnSync('test', ['-r', probe], { uid: account.uid, gid: account.gid });
  if (res.status === 0) return home;
  const copy = join(tmpdir(), `sluice-elasticsearch-${ELASTICSEARCH_VERSION}`);
  if (!existsSync(join(copy, 'bin', 'elasticsearch'))) {
    rmSync(copy, { recursive: true, force: true });
    cpSync(home, copy, { recursive: true });
    chmodSync(copy, 0o755);
  }
  return copy;
}

function chownTree(path: string, account: Account): void {
  chownSync(path, account.uid, account.gid);
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path)) chownTree(join(path, entry), account);
  }
}

/** GET against a base URL that may carry user:password (fetch refuses those in URLs). */
function getJson(base: string, path: string): Promise<Response> {
  const u = new URL(base);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return fetch(new URL(path, u), { headers });
}

async function nodeVersion(url: string): Promise<string> {
  const res = await getJson(url, '/_nodes/_local');
  if (!res.ok) throw new Error(`GET ${url}/_nodes/_local answered ${res.status}`);
  const body = (await res.json()) as { nodes: Record<string, { version: string }> };
  const node = Object.values(body.nodes)[0];
  if (!node) throw new Error(`no node in ${url}/_nodes/_local`);
  return node.version;
}

async function healthy(url: string): Promise<boolean> {
  const res = await getJson(url, '/_cluster/health');
  if (!res.ok) return false;
  const body = (await res.json()) as { status?: string };
  return body.status === 'green' || body.status === 'yellow';
}

/**
 * Starts a real single-node Elasticsearch on free loopback ports with its data in a
 * temp dir (heap 1 GiB), ready when cluster health is yellow or green. The distribution
 * is Elastic's integration-test build from Maven Central: server, transport, X-Pack core
 * and security (disabled here). It lacks some bundled modules of the full product
 * (root info `GET /`, ILM, `_data_stream` REST endpoints); data streams themselves,
 * index templates, bulk, search, aggregations and field caps are all there.
 */
export async function startElasticsearch(): Promise<ElasticsearchServer> {
  const java = javaHome();
  const account = serviceAccount();
  const home = readableHome(ensureElasticsearchHome(), account);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-es-'));
  const conf = join(dir, 'config');
  mkdirSync(conf);
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'logs'));
  const [httpPort, transportPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(conf, 'elasticsearch.yml'),
    [
      'cluster.name: sluice-test',
      'node.name: sluice-test-node',
      'discovery.type: single-node',
      'network.host: 127.0.0.1',
      `http.port: ${httpPort}`,
      `transport.port: ${transportPort}`,
      `path.data: ${join(dir, 'data')}`,
      `path.logs: ${join(dir, 'logs')}`,
      'xpack.security.enabled: false',
      // Shared CI disks can be nearly full; watermarks would turn indices read-only.
      'cluster.routing.allocation.disk.threshold_enabled: false',
      '',
    ].join('\n'),
  );
  // Our own JVM options: a capped heap, and error/dump files inside the temp dir (the
  // stock file writes GC logs relative to the working directory).
  writeFileSync(
    join(conf, 'jvm.options'),
    [
      '-Xms1g',
      '-Xmx1g',
      '-XX:+UseG1GC',
      `-XX:HeapDumpPath=${join(dir, 'data')}`,
      `-XX:ErrorFile=${join(dir, 'logs', 'hs_err_pid%p.log')}`,
      '',
    ].join('\n'),
  );
  copyFileSync(join(home, 'config', 'log4j2.properties'), join(conf, 'log4j2.properties'));
  if (account) {
    chmodSync(dir, 0o755);
    chownTree(dir, account);
  }
  const url = `http://127.0.0.1:${httpPort}`;
  const env: NodeJS.ProcessEnv = { ...process.env, ES_JAVA_HOME: java, ES_PATH_CONF: conf };
  delete env.ES_JAVA_OPTS;
  delete env.JAVA_TOOL_OPTIONS;
  const proc: ManagedProcess = await startProcess({
    name: `elasticsearch ${ELASTICSEARCH_VERSION}`,
    command: join(home, 'bin', 'elasticsearch'),
    args: [],
    cwd: dir,
    env,
    ...(account ?? {}),
    logFile: join(dir, 'console.log'),
    ready: () => healthy(url),
    readyTimeoutMs: 180_000,
    pollMs: 500,
  });
  const version = await nodeVersion(url);
  return {
    url,
    version,
    external: false,
    processGroup: proc.pid > 0 ? proc.pid : undefined,
    logTail: (n) => proc.logTail(n),
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let shared: Promise<ElasticsearchServer> | undefined;

/**
 * The Elasticsearch for a test: SLUICE_TEST_ES_URL when set (the test runner starts
 * one node for the whole suite and passes it down this way; users can point it at
 * their own cluster), otherwise a node started for this test process and stopped
 * when it exits.
 */
export function elasticsearchForTests(): Promise<ElasticsearchServer> {
  const unavailable = process.env.SLUICE_TEST_ES_UNAVAILABLE;
  if (unavailable) return Promise.reject(new ServerUnavailableError(unavailable));
  const external = process.env.SLUICE_TEST_ES_URL;
  if (external) {
    const url = external.replace(/\/+$/, '');
    shared ??= nodeVersion(url).then((version) => ({
      url,
      version,
      external: true,
      logTail: () => `(external Elasticsearch at ${url}: no log here)`,
      stop: async () => {},
    }));
    return shared;
  }
  shared ??= startElasticsearch();
  return shared;
}
