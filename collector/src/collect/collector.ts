import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { type RunningApi, startApi } from '../api/server.js';
import type { CollectConfig } from '../config/load.js';
import type { ExporterStats } from '../flow/decoder.js';
import { ExporterGate } from '../ingest/gate.js';
import { readCheckpoint, writeCheckpoint } from '../ingest/journal/checkpoint.js';
import { JournalReader } from '../ingest/journal/reader.js';
import { enforceRetention } from '../ingest/journal/retention.js';
import { listSegments, segmentSize } from '../ingest/journal/segments.js';
import { JournalWriter } from '../ingest/journal/writer.js';
import { loadTemplates, saveTemplates } from '../ingest/template-file.js';
import { UdpListener } from '../ingest/udp-listener.js';
import { createMetrics, type Metrics } from '../metrics/provider.js';
import { compileFilter } from '../query/filter/index.js';
import { BulkIndexer } from '../sink/elasticsearch/bulk.js';
import { createElasticsearchClient, redactedDescription } from '../sink/elasticsearch/client.js';
import { installIndexTemplate } from '../sink/elasticsearch/template.js';
import { DecodePool } from './decode-pool.js';
import { type DocumentSink, Indexer } from './indexer.js';
import { StatsDeltas } from './stats-deltas.js';

/** The collector instance id: part of every document id, so two collectors never collide. */
function instanceId(dataDir: string): string {
  const path = join(dataDir, 'instance-id');
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (/^[0-9a-f]{8}$/.test(id)) return id;
  } catch {
    // first start
  }
  const id = randomBytes(4).toString('hex');
  writeFileSync(path, `${id}\n`);
  return id;
}

/** The bulk indexer seen as the indexer's sink (journal positions are numbers there). */
function asSink(b: BulkIndexer): DocumentSink {
  return {
    addLines: (buf, offsets, position) => {
      b.addLines(buf, offsets, BigInt(position));
    },
    waitForCapacity: () => b.waitForCapacity(),
    indexedUpTo: () => {
      const p = b.indexedUpTo();
      return p === undefined ? -1 : Number(p);
    },
    flush: () => b.flush(),
    sendNow: () => b.sendNow(),
  };
}

export interface CollectorStatus {
  listeners: { port: number; address: string }[];
  journalHead: number;
  checkpoint: number;
  elasticsearch: 'ready' | 'waiting';
}

/**
 * `sluice collect`: UDP in, journal first, then decode (worker threads), Elasticsearch
 * bulk and OpenTelemetry metrics, with a fastify API for health and /metrics.
 * Everything that can fail outside the process (Elasticsearch, disk) is retried or
 * reported; records wait in the journal, not in memory.
 */
export class Collector {
  private listeners: UdpListener[] = [];
  private timers: NodeJS.Timeout[] = [];
  private esReady = false;
  private esDetail = 'not contacted yet';
  private checkpoint = 0;
  private checkpointDirty = false;
  private indexer: Indexer | undefined;
  private stopping = false;
  private readonly templatesPath: string;
  /** Per-exporter decode stats as increments for the metrics (batches and expiry). */
  private readonly deltas: StatsDeltas;
  private readonly checkpointPath: string;

  private constructor(
    readonly config: CollectConfig,
    private readonly log: Logger,
    private readonly writer: JournalWriter,
    private readonly pool: DecodePool,
    private readonly client: Client,
    private readonly bulk: BulkIndexer,
    private readonly metrics: Metrics,
    private api: RunningApi | undefined = undefined,
  ) {
    this.deltas = new StatsDeltas(metrics.self);
    this.templatesPath = join(config.dataDir, 'templates.json');
    this.checkpointPath = join(config.dataDir, 'checkpoint.json');
  }

  static async start(config: CollectConfig, log: Logger): Promise<Collector> {
    mkdirSync(config.dataDir, { recursive: true });
    const instance = instanceId(config.dataDir);
    const journalDir = join(config.dataDir, 'journal');
    const writer = JournalWriter.open(journalDir, {
      segmentBytes: config.journal.segmentBytes,
      fsync: config.journal.fsync,
    });
    if (writer.recovery.truncatedBytes > 0) {
      log.warn(
        { bytes: writer.recovery.truncatedBytes, reason: writer.recovery.reason },
        'journal: cut a torn entry at the end (an earlier crash); everything before it is intact',
      );
    }
    const saved = loadTemplates(join(config.dataDir, 'templates.json'));
    if (!saved.ok) log.warn({ error: saved.error }, 'templates: starting without saved state');
    // Stats the workers report on their own (template misses after expiry) go to the
    // same per-exporter deltas as those of decoded batches, once the collector exists.
    let reportStats: (s: [string, ExporterStats][]) => void = () => {};
    const pool = DecodePool.start(
      config.workers,
      {
        templateLimits: {
          maxTemplatesPerExporter: config.limits.maxTemplatesPerExporter,
          maxPendingBytesPerExporter: config.limits.maxPendingBytesPerExporter,
          pendingTtlMs: config.limits.pendingTemplateWaitMs,
          maxExporters: config.limits.maxExporters,
        },
        samplingDefault: config.sampling.defaultRate,
        samplingOverrides: [...config.sampling.overrides],
        templates: saved.ok ? saved.snapshot : undefined,
        instance,
      },
      (s) => reportStats(s),
    );
    const es = config.elasticsearch;
    const esConfig = {
      url: es.url,
      ...(es.username !== undefined ? { username: es.username } : {}),
      ...(es.password !== undefined ? { password: es.password } : {}),
      ...(es.apiKey !== undefined ? { apiKey: es.apiKey } : {}),
      tls: {
        ...(es.caFile !== undefined ? { caFile: es.caFile } : {}),
        rejectUnauthorized: es.tlsVerify,
      },
    };
    const client = createElasticsearchClient(esConfig);
    const metrics = createMetrics({
      prometheus: config.metrics.prometheus,
      otlp:
        config.metrics.otlpEndpoint !== undefined
          ? {
              endpoint: config.metrics.otlpEndpoint,
              headers: config.metrics.otlpHeaders,
              intervalMs: config.metrics.otlpIntervalMs,
            }
          : undefined,
      resource: { serviceInstanceId: instance },
      flowCardinalityLimit: config.metrics.flowCardinalityLimit,
    });
    const sinkLog = log.child({ component: 'elasticsearch' });
    const bulk = new BulkIndexer({
      client,
      dataStream: es.dataStream,
      flushCount: es.bulkMaxDocs,
      flushBytes: es.bulkMaxBytes,
      flushIntervalMs: es.bulkIntervalMs,
      concurrency: es.bulkConcurrency,
      deadLetter: { path: join(config.dataDir, 'dead-letter', 'dead-letter.ndjson') },
      logger: sinkLog,
      onBulk: (e) => {
        metrics.self.bulkLatency(e.durationMs / 1000, e.failure);
        metrics.self.documents('indexed', e.indexed);
        metrics.self.documents('duplicate', e.duplicates);
        metrics.self.documents('dead_lettered', e.deadLettered);
      },
    });
    log.info(
      { elasticsearch: redactedDescription(esConfig), dataStream: es.dataStream },
      'elasticsearch',
    );
    const c = new Collector(config, log, writer, pool, client, bulk, metrics);
    reportStats = (s) => c.deltas.apply(s);
    c.checkpoint = readCheckpoint(c.checkpointPath)?.position ?? 0;
    if (c.checkpoint > writer.head) {
      log.warn(
        { checkpoint: c.checkpoint, head: writer.head },
        'checkpoint beyond the journal: starting over',
      );
      c.checkpoint = 0;
    }
    try {
      await c.startListeners();
      await c.startApi();
    } catch (err) {
      await c.stop();
      throw err;
    }
    c.startIndexing();
    c.startTimers();
    return c;
  }

  private async startListeners(): Promise<void> {
    const gate = new ExporterGate(
      this.config.allow,
      this.config.limits.maxPacketsPerSecondPerExporter,
      this.config.limits.maxExporters,
    );
    const self = this.metrics.self;
    for (const l of this.config.listen) {
      const listener = await UdpListener.bind({
        port: l.port,
        address: l.address,
        receiveBufferBytes: this.config.receiveBufferBytes,
        onDatagram: (bytes, exporter, exporterPort, localPort) => {
          const now = Date.now();
          const verdict = gate.check(exporter, now);
          if (verdict !== 'accepted') {
            self.datagram(exporter, 'rejected', verdict);
            return;
          }
          self.datagram(exporter, 'accepted');
          this.writer.append({ receivedMs: now, exporter, exporterPort, localPort, bytes });
        },
        onOverflow: (exporter, datagrams) => {
          // Only when this thread stalled for seconds under a flood: counted and said.
          for (let i = 0; i < datagrams; i++) self.datagram(exporter, 'rejected', 'overflow');
          this.log.warn(
            { exporter, datagrams },
            'datagrams dropped: the receive thread was at its bound (the main thread fell behind)',
          );
        },
      });
      this.listeners.push(listener);
      const b = listener.buffer;
      if (listener.capped) {
        this.log.warn(
          {
            port: listener.port,
            requested: b.requested,
            granted: b.granted,
            kernelMax: b.kernelMax,
          },
          `UDP receive buffer capped by the kernel: raise it with sysctl -w net.core.rmem_max=${b.requested}`,
        );
      }
      this.log.info(
        { port: listener.port, address: listener.address, receiveBuffer: b.granted },
        'listening for flow exports',
      );
    }
    if (this.config.allow.length > 0)
      this.log.info({ allow: this.config.allow }, 'exporter allow-list in force');
    self.onUdpDrops({ ports: () => this.listeners.map((l) => l.port) });
    self.onJournalBytes(() =>
      listSegments(join(this.config.dataDir, 'journal')).reduce((n, s) => n + segmentSize(s), 0),
    );
  }

  private async startApi(): Promise<void> {
    const journalDir = join(this.config.dataDir, 'journal');
    const h = this.config.http;
    const q = this.config.query;
    this.api = await startApi({
      logger: this.log,
      metrics: this.metrics,
      host: h.host,
      port: h.port,
      tls:
        h.tlsCertFile !== undefined && h.tlsKeyFile !== undefined
          ? { cert: readFileSync(h.tlsCertFile), key: readFileSync(h.tlsKeyFile) }
          : undefined,
      query: {
        client: this.client,
        dataStream: this.config.elasticsearch.dataStream,
        compileFilter,
        prometheusUrl: q.prometheusUrl,
        tokens: h.tokens,
        limits: {
          maxRangeMs: q.maxRangeMs,
          maxBuckets: q.maxBuckets,
          maxRecords: q.maxRecords,
          maxTuples: q.maxTuples,
          timeoutMs: q.timeoutMs,
        },
      },
      checks: {
        listeners: async () => ({
          ok: this.listeners.length === this.config.listen.length,
          detail: `${this.listeners.length} of ${this.config.listen.length} UDP listeners bound`,
        }),
        journal: async () => {
          try {
            accessSync(journalDir, constants.W_OK);
            return { ok: true, detail: `journal writable at ${journalDir}` };
          } catch (err) {
            return { ok: false, detail: `journal not writable: ${(err as Error).message}` };
          }
        },
        elasticsearch: async () => ({ ok: this.esReady, detail: this.esDetail }),
      },
    });
    this.log.info({ url: this.api.url }, 'HTTP API: /healthz /readyz /metrics');
  }

  /** Installs the index template (retrying while Elasticsearch is away), then indexes. */
  private startIndexing(): void {
    const deltas = this.deltas;
    const reader = new JournalReader(join(this.config.dataDir, 'journal'), this.checkpoint);
    const indexer = new Indexer(
      reader,
      () => this.writer.flushedHead,
      this.pool,
      asSink(this.bulk),
      {
        onAggregates: (a) => {
          for (const t of a) this.metrics.flows.addTable(t);
        },
        onStats: (s) => deltas.apply(s),
        onCheckpoint: (p) => {
          this.checkpoint = p;
          this.checkpointDirty = true;
        },
        onFailure: (err) => {
          // Not ready any more, with the reason; the journal keeps what was not indexed.
          this.esReady = false;
          this.esDetail = `indexing stopped: ${err.message}; datagrams wait in the journal until a restart`;
          this.log.fatal({ error: err.message }, 'indexing stopped');
        },
      },
    );
    this.indexer = indexer;
    this.writer.onFlush(() => indexer.notify());
    this.metrics.self.onIndexingLag(() => ({
      seconds: indexer.lagSeconds(),
      bytes: indexer.lagBytes(),
    }));
    const install = async (attempt: number): Promise<void> => {
      if (this.stopping) return;
      try {
        const res = await installIndexTemplate(this.client, {
          dataStream: this.config.elasticsearch.dataStream,
        });
        this.esReady = true;
        this.esDetail = `index template ${res.name} ${res.action}`;
        this.log.info({ template: res.name, action: res.action }, 'elasticsearch ready');
        indexer.start();
      } catch (err) {
        if (this.stopping) return;
        const wait = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
        this.esDetail = `unreachable or refusing: ${(err as Error).message}; retrying, datagrams wait in the journal`;
        if (attempt === 0 || attempt % 10 === 0) {
          this.log.warn(
            { error: (err as Error).message, retryInMs: wait },
            'elasticsearch not ready; datagrams wait in the journal',
          );
        }
        const t = setTimeout(() => void install(attempt + 1), wait);
        t.unref();
        this.timers.push(t);
      }
    };
    void install(0);
  }

  private startTimers(): void {
    const every = (ms: number, f: () => void | Promise<void>) => {
      const t = setInterval(() => {
        Promise.resolve(f()).catch((err: unknown) =>
          this.log.error({ err }, 'periodic task failed'),
        );
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(1_000, () => this.saveCheckpoint());
    every(30_000, () => this.saveTemplates());
    every(5_000, () => this.pool.expire(Date.now()));
    every(60_000, () => {
      const r = enforceRetention(
        join(this.config.dataDir, 'journal'),
        {
          maxBytes: this.config.journal.maxBytes,
          maxAgeMs: this.config.journal.maxAgeMs,
          hardMaxBytes: this.config.journal.hardMaxBytes,
        },
        this.checkpoint,
        listSegments(join(this.config.dataDir, 'journal')).at(-1)?.start ?? 0,
      );
      if (r.lostBytes > 0) {
        this.log.error(
          { lostBytes: r.lostBytes },
          'journal over its hard size limit: unindexed data deleted',
        );
      }
    });
  }

  private saveCheckpoint(): void {
    if (!this.checkpointDirty) return;
    this.checkpointDirty = false;
    writeCheckpoint(this.checkpointPath, this.checkpoint);
  }

  private async saveTemplates(): Promise<void> {
    saveTemplates(this.templatesPath, await this.pool.snapshot());
  }

  status(): CollectorStatus {
    return {
      listeners: this.listeners.map((l) => ({ port: l.port, address: l.address })),
      journalHead: this.writer.flushedHead,
      checkpoint: this.checkpoint,
      elasticsearch: this.esReady ? 'ready' : 'waiting',
    };
  }

  get apiUrl(): string | undefined {
    return this.api?.url;
  }

  /** Ports actually bound (port 0 in the config picks a free one). */
  get ports(): number[] {
    return this.listeners.map((l) => l.port);
  }

  /**
   * Graceful stop: no new datagrams, journal flushed, what was read is indexed (for at
   * most `drainMs`), then checkpoint and templates saved.
   */
  async stop(drainMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.listeners.map((l) => l.close()));
    this.writer.flush();
    if (this.indexer) this.checkpoint = await this.indexer.stop(drainMs);
    writeCheckpoint(this.checkpointPath, this.checkpoint);
    try {
      await this.saveTemplates();
    } catch (err) {
      this.log.warn({ err }, 'templates not saved');
    }
    await this.bulk.close({ timeoutMs: 1_000 });
    await this.pool.close();
    await this.api?.close();
    await this.metrics.shutdown();
    await this.client.close();
    this.writer.close();
    this.log.info({ checkpoint: this.checkpoint }, 'stopped');
  }
}
