#!/bin/sh
":" //; exec node --max-semi-space-size=4 "$0" "$@"
// The `sluice` command. The CLI lives in TypeScript under src/cli and is built to dist/
// by `npm run build` (the README's commands build it for you).
//
// The second line is read by both sh and node: as a program, sh runs it and starts node
// on this file with the flag below; node sees a string and a comment. Why not
// `#!/usr/bin/env -S node --flag`: BusyBox's env (Alpine) has no -S. (Biome's formatter
// is off for this file: it would make the second line `':';`, which sh cannot run.)
// --max-semi-space-size=4 (MiB, V8's default is 16) is the main thread's young
// generation. The collector's main thread allocates little per datagram but lives long;
// V8 would grow its two semi-spaces to 16 MiB each under load, ~25 MiB of RSS that buys
// it nothing (bench/ingest: same CPU per record, peak RSS 206 against 229-232 MiB). It can
// only be set when the process starts, hence here; `node bin/sluice.js` runs without it.
// The decode and receive threads set their own (resourceLimits).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
