#!/usr/bin/env node
// The job server (`npx @au/job-server`, `job-server worker`). It runs the built entry; from a
// checkout without a build, run `npx --yes pnpm@10 start` at the repository root instead.
import '../dist/main.js';
