import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Full path of an executable on PATH (or at one of the extra paths), or undefined. */
export function which(name: string, extra: readonly string[] = []): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const candidate of [...dirs.map((d) => join(d, name)), ...extra]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
