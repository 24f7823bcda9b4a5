// `sluice` from the TypeScript sources (the benchmark's --build source): what
// collector/bin/sluice.js does with the built JavaScript.
import { main } from '../../collector/src/cli/main.js';

process.exitCode = await main(process.argv);
