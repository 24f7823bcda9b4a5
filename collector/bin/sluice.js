#!/usr/bin/env -S node --max-semi-space-size=4
// The `sluice` command. The CLI lives in TypeScript under src/cli and is built to dist/
// by `npm run build` (the README's commands build it for you).
//
// --max-semi-space-size=4 (MiB, V8's default is 16): the main thread's young generation.
// The collector's main thread allocates little per datagram but lives long; V8 would grow
// its two semi-spaces to 16 MiB each under load, ~25 MiB of RSS that buys it nothing
// (bench/ingest: same CPU per record, peak RSS 206 against 229-232 MiB). It can only be
// set when the process starts, hence here; run `node bin/sluice.js` and it is not set.
// The decode and receive threads set their own (resourceLimits).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
