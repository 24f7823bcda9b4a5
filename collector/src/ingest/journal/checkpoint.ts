import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where indexing stopped: every journal entry below `position` is indexed (or dead-lettered). */
export interface Checkpoint {
  position: number;
  /** When it was written, for humans. */
  time: string;
}

export function readCheckpoint(path: string): Checkpoint | undefined {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
    return Number.isFinite(c.position) && c.position >= 0 ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Atomic: temp file and rename, so a crash leaves the previous checkpoint. */
export function writeCheckpoint(path: string, position: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify({ position, time: new Date().toISOString() }));
  renameSync(tmp, path);
}
