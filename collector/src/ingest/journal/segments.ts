import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Segment files are named by the journal position of their first byte. */
const SUFFIX = '.journal';

export interface Segment {
  readonly start: number;
  readonly path: string;
}

export function segmentName(start: number): string {
  return `${String(start).padStart(20, '0')}${SUFFIX}`;
}

/** The segments of a journal directory, oldest first. */
export function listSegments(dir: string): Segment[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(SUFFIX) && /^\d{20}\.journal$/.test(n))
    .map((n) => ({ start: Number(n.slice(0, 20)), path: join(dir, n) }))
    .sort((a, b) => a.start - b.start);
}

export function segmentSize(s: Segment): number {
  try {
    return statSync(s.path).size;
  } catch {
    return 0;
  }
}
