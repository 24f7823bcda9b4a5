// Test-only HTTP proxy in front of a real Elasticsearch: it records every request (and
// its headers), forwards it with the server's answer and headers unchanged (the v8
// client's product check reads `x-elastic-product`), or, when the test says so, answers
// an error itself instead of forwarding (429, 503...), optionally only once a given
// promise resolves, so tests can order answers deterministically.
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  /** 1-based arrival number. */
  readonly n: number;
  /** 1-based number among `_bulk` requests (0 for others). */
  readonly bulkN: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body as text. */
  readonly body: string;
}

export type ProxyAnswer =
  | 'forward'
  | {
      status: number;
      error?: { type: string; reason: string };
      /** Answer only after this resolves. */
      after?: Promise<unknown>;
    };

export interface EsProxy {
  readonly url: string;
  readonly port: number;
  readonly requests: ProxiedRequest[];
  /** Resolves when the answer to bulk request number `n` has been sent. */
  bulkAnswered(n: number): Promise<void>;
  close(): Promise<void>;
}

export interface EsProxyOptions {
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Decides per request; default: forward everything. */
  decide?: (req: ProxiedRequest) => ProxyAnswer | Promise<ProxyAnswer>;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export async function startEsProxy(target: string, opts: EsProxyOptions = {}): Promise<EsProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const answered = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  const answeredFor = (n: number): { promise: Promise<void>; resolve: () => void } => {
    let d = answered.get(n);
    if (!d) {
      d = deferred();
      answered.set(n, d);
    }
    return d;
  };
  let bulkCount = 0;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const isBulk = (req.url ?? '').split('?')[0]?.endsWith('/_bulk') ?? false;
      const info: ProxiedRequest = {
        n: requests.length + 1,
        bulkN: isBulk ? ++bulkCount : 0,
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(info);
      const done = (): void => {
        if (info.bulkN > 0) answeredFor(info.bulkN).resolve();
      };
      res.on('finish', done);
      res.on('close', done);
      void (async () => {
        const answer = opts.decide ? await opts.decide(info) : 'forward';
        if (answer !== 'forward') {
          await answer.after;
          const error = answer.error ?? {
            type: 'test_proxy_error',
            reason: 'answered by the test proxy',
          };
          res.writeHead(answer.status, {
            'content-type': 'application/json',
            'x-elastic-product': 'Elasticsearch',
          });
          res.end(
            JSON.stringify({ error: { ...error, root_cause: [error] }, status: answer.status }),
          );
          return;
        }
        const headers = { ...req.headers, host: upstream.host };
        const up = httpRequest(
          {
            protocol: upstream.protocol,
            hostname: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers,
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on('error', (err) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(err));
        });
        up.end(Buffer.concat(chunks));
      })();
    });
  };

  const server: Server = opts.tls ? createHttpsServer(opts.tls, handler) : createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    bulkAnswered: (n) => answeredFor(n).promise,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
