import type { FastifyPluginAsync } from 'fastify';
import { type ReadinessChecks, runChecks } from './readiness.js';

export interface HealthPluginOptions {
  checks: ReadinessChecks;
  checkTimeoutMs: number;
}

const resultSchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, detail: { type: 'string' } },
  required: ['ok', 'detail'],
} as const;

/** The /readyz body, both when ready and when not. */
const readinessBody = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    checks: { type: 'object', additionalProperties: resultSchema },
  },
  required: ['status', 'checks'],
} as const;

/**
 * `/healthz`: the process is up and serving (for liveness probes: never depends on
 * anything outside the process). `/readyz`: every readiness check passes; 503 with each
 * check's detail otherwise. Probes are frequent, so their request lines log at debug
 * level; a check changing state is logged once per change instead.
 */
export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = async (app, opts) => {
  app.get(
    '/healthz',
    {
      config: { quietLog: true },
      schema: {
        response: {
          200: { type: 'object', properties: { status: { type: 'string' } } },
        },
      },
    },
    async () => ({ status: 'ok' }),
  );

  /** Last failure detail per check, to log transitions rather than every probe. */
  const failing = new Map<string, string>();
  app.get(
    '/readyz',
    {
      config: { quietLog: true },
      schema: {
        response: {
          200: readinessBody,
          503: readinessBody,
        },
      },
    },
    async (_request, reply) => {
      const r = await runChecks(opts.checks, opts.checkTimeoutMs);
      for (const [name, res] of Object.entries(r.checks)) {
        const before = failing.get(name);
        if (!res.ok && before !== res.detail) {
          failing.set(name, res.detail);
          app.log.warn({ check: name, detail: res.detail }, 'readiness check failing');
        } else if (res.ok && before !== undefined) {
          failing.delete(name);
          app.log.info({ check: name, detail: res.detail }, 'readiness check passing again');
        }
      }
      reply.code(r.ready ? 200 : 503);
      return { status: r.ready ? 'ready' : 'not ready', checks: r.checks };
    },
  );
};
