/**
 * The dead-letter file: documents Elasticsearch refused for their content, one JSON line
 * each, with the reason. An entry is on disk (written and fsynced) before the indexer
 * counts its document as done, so the checkpoint never passes a record that is nowhere.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface DeadLetterError {
  type: string;
  reason: string;
  /** The nested cause Elasticsearch gave (which field, which value), when it gave one. */
  caused_by?: unknown;
}

/** One line of the file. */
export interface DeadLetterEntry {
  /** When it was written (ISO 8601). */
  time: string;
  id: string;
  /** Journal position, as a decimal string (JSON has no 64-bit integers). */
  position: string;
  /** Per-item HTTP status Elasticsearch answered (0 when it was refused before sending). */
  status: number;
  error: DeadLetterError;
  /** The document: parsed JSON when it parses, else its text as sent. */
  source: unknown;
}

export interface DeadLetterOptions {
  path: string;
  /** Rotate when the file would grow past this (default 100 MiB). */
  maxBytes?: number;
  /**
   * Rotated files to keep; older ones are deleted. Default: keep all (they are the only
   * copy of those records besides the journal, so deleting them is the operator's call).
   */
  maxFiles?: number;
  /** fsync after each append (default true). */
  fsync?: boolean;
}

export const DEFAULT_DEAD_LETTER_MAX_BYTES = 100 * 1024 * 1024;

/** Document source for an entry: the JSON value when it parses, else the raw text. */
export function entrySource(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function stamp(d: Date): string {
  return d.toISOString().replaceAll(/[-:]/g, '').replace('.', '');
}

/** Appends entries as JSON lines; rotates by size; one writer at a time. */
export class DeadLetterFile {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number | undefined;
  private readonly fsync: boolean;
  private handle: FileHandle | undefined;
  private size = 0;
  private chain: Promise<void> = Promise.resolve();
  private entries = 0;
  private rotations = 0;

  constructor(opts: DeadLetterOptions) {
    this.path = opts.path;
    this.maxBytes = opts.maxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES;
    this.maxFiles = opts.maxFiles;
    this.fsync = opts.fsync ?? true;
  }

  /** Entries written since start. */
  get written(): number {
    return this.entries;
  }

  /** Rotations since start. */
  get rotated(): number {
    return this.rotations;
  }

  /** Writes the entries (one write, then fsync); resolves once they are on disk. */
  append(entries: readonly DeadLetterEntry[]): Promise<void> {
    const run = this.chain.then(() => this.write(entries));
    // A failed write must not block later ones; the caller sees this call's error.
    this.chain = run.catch(() => {});
    return run;
  }

  private async write(entries: readonly DeadLetterEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const text = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    const bytes = Buffer.from(text, 'utf8');
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) await this.rotate();
    const handle = await this.open();
    await handle.appendFile(bytes);
    if (this.fsync) await handle.datasync();
    this.size += bytes.length;
    this.entries += entries.length;
  }

  private async open(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.path, 'a');
    this.size = (await handle.stat()).size;
    this.handle = handle;
    return handle;
  }

  private async rotate(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    let target = `${this.path}.${stamp(new Date())}`;
    const taken = new Set(await readdir(dirname(this.path)));
    for (let i = 1; taken.has(basename(target)); i++)
      target = `${this.path}.${stamp(new Date())}-${i}`;
    await rename(this.path, target);
    this.size = 0;
    this.rotations += 1;
    if (this.maxFiles !== undefined) await this.prune();
  }

  private async prune(): Promise<void> {
    const dir = dirname(this.path);
    const prefix = `${basename(this.path)}.`;
    // Timestamped names sort by age.
    const rotated = (await readdir(dir)).filter((f) => f.startsWith(prefix)).sort();
    const excess = rotated.length - (this.maxFiles ?? rotated.length);
    for (const f of rotated.slice(0, Math.max(0, excess))) await rm(join(dir, f), { force: true });
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle?.close();
    this.handle = undefined;
  }
}
