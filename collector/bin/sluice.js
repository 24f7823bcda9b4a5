#!/usr/bin/env node
// The `sluice` command. The CLI lives in TypeScript under src/cli and is built to dist/
// by `npm run build` (the README's commands build it for you).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
