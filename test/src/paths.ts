import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `test/` folder of the repository. */
export const TEST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Git-ignored downloads (Elasticsearch distribution) that later runs reuse offline. */
export const CACHE_DIR = join(TEST_DIR, '.cache');
