#!/usr/bin/env node
// The `au` command. It runs the built entry; from a checkout without a build, run
// `node --conditions=@au/source --import tsx apps/cli/src/main.ts` instead.
import '../dist/main.js';
