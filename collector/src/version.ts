import { createRequire } from 'node:module';

// Read from package.json at run time so the CLI and the library never disagree
// with what npm reports.
const require = createRequire(import.meta.url);
const pkg = require('../package.json') as { version: string };

export const VERSION: string = pkg.version;
