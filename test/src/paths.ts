import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `test/` folder of the repository. */
export const TEST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Git-ignored downloads (Elasticsearch distribution) that later runs reuse offline. */
export const CACHE_DIR = join(TEST_DIR, '.cache');
/**
 * Shared real captures (NetFlow, IPFIX, sFlow, encapsulations), kept beside the
 * repository in ../shared/pcaps; SLUICE_PCAPS points elsewhere.
 */
export const PCAPS_DIR = process.env.SLUICE_PCAPS ?? join(TEST_DIR, '..', '..', 'shared', 'pcaps');
