import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TemplateSnapshot } from '../protocol/templates/store.js';

/**
 * Template state on disk, so a restart does not mean "template not found" until every
 * exporter re-sends its templates. Written atomically (temp file + rename): a crash
 * mid-write leaves the previous file intact.
 */
export function saveTemplates(path: string, snap: TemplateSnapshot): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snap));
  renameSync(tmp, path);
}

export type LoadResult =
  | { ok: true; snapshot: TemplateSnapshot | undefined }
  | { ok: false; error: string };

/** Reads saved templates; a missing file is an empty start, a corrupt one an error value. */
export function loadTemplates(path: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, snapshot: undefined };
    return { ok: false, error: `cannot read template state ${path}: ${(err as Error).message}` };
  }
  try {
    const snap = JSON.parse(text) as TemplateSnapshot;
    if (snap.format !== 1 || !Array.isArray(snap.exporters)) {
      return { ok: false, error: `template state ${path}: unknown format` };
    }
    return { ok: true, snapshot: snap };
  } catch (err) {
    return {
      ok: false,
      error: `template state ${path} is not valid JSON: ${(err as Error).message}`,
    };
  }
}
