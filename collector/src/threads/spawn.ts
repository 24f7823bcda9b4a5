import { type ResourceLimits, Worker } from 'node:worker_threads';

/**
 * Starts the worker thread whose code is the module `name` (without extension) next to
 * `importMetaUrl`. Built, that is the .js file beside the caller. Run from sources under
 * tsx (tests, development), a worker thread does not inherit tsx's loader, so a tiny
 * bootstrap registers it before importing the TypeScript module.
 */
export function spawnThread(
  importMetaUrl: string,
  name: string,
  options: { resourceLimits: ResourceLimits; workerData?: unknown },
): Worker {
  const fromSources = importMetaUrl.endsWith('.ts');
  const url = new URL(`./${name}${fromSources ? '.ts' : '.js'}`, importMetaUrl);
  if (!fromSources) return new Worker(url, options);
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
