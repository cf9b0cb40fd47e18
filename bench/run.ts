// Runs the benchmarks in this folder: `pnpm bench` lists them, `pnpm bench <name>` runs
// bench/<name>.bench.ts, `pnpm bench all` runs every one in turn. Each benchmark runs
// au and what a user would pick instead side by side in one run, in alternating rounds,
// and prints the ratios (docs/benchmarks.md).
// au runs built, as its users run it: the packages are built first (turbo: a no-op when
// nothing changed), and no `@au/source` condition sends imports to the TypeScript sources,
// whose on-the-fly compilation (tsx keeps every function's name) costs au's hot paths
// about a fifth of their speed.
// A benchmark whose references need a newer Node than this one (pg-boss 12 and
// graphile-worker 0.18 need Node ≥ 22.18) is re-launched on Node 24 through
// `npx -p node@24` (the `node` package of the npm registry, fetched once into npx's cache).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.replace(/\.bench\.ts$/, ''))
  .sort();
const [name, ...rest] = process.argv.slice(2);

/** The Node a benchmark needs, [major, minor], when it is newer than the repository's. */
const NEEDS_NODE: Record<string, [number, number]> = { 'postgres-queue': [22, 18] };
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

if (name === undefined) {
  console.log(`benchmarks: ${available.join(', ')}\nrun one: pnpm bench <name>   all: pnpm bench all`);
  process.exit(0);
}
const selected = name === 'all' ? available : [name];
for (const bench of selected) {
  if (!available.includes(bench)) {
    console.error(`no benchmark "${bench}": choose one of ${available.join(', ')}`);
    process.exit(2);
  }
}
console.log('building the packages (turbo run build)…');
const root = join(here, '..');
const build = spawnSync(
  join(root, 'node_modules/.bin/turbo'),
  ['run', 'build', '--output-logs=errors-only'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (build.status !== 0) {
  console.error('the build failed (run benchmarks as `pnpm bench …`): the benchmarks run the built packages');
  process.exit(build.status ?? 1);
}
for (const bench of selected) {
  console.log(`\n### ${bench}`);
  const nodeArguments = ['--import', 'tsx', join(here, `${bench}.bench.ts`), ...rest];
  const needs = NEEDS_NODE[bench];
  const tooOld = needs !== undefined && (major < needs[0] || (major === needs[0] && minor < needs[1]));
  if (tooOld) {
    console.log(
      `${bench} needs Node ≥ ${needs.join('.')} (this is ${process.version}): running it on Node 24 with ` +
        `\`npx -p node@24 node ${nodeArguments.join(' ')}\``,
    );
  }
  const result = tooOld
    ? spawnSync('npx', ['--yes', '-p', 'node@24', 'node', ...nodeArguments], { stdio: 'inherit' })
    : spawnSync(process.execPath, nodeArguments, { stdio: 'inherit' });
  if (result.error !== undefined) console.error(`could not start ${bench}: ${result.error.message}`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}
