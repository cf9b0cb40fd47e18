// Runs the benchmarks in this folder: `pnpm bench` lists them, `pnpm bench <name>` runs
// bench/<name>.bench.ts, `pnpm bench all` runs every one in turn. Each benchmark runs
// au and the raw engine it wraps side by side in one run and prints the ratio.
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
  console.log(`\n### ${bench}`);
  const result = spawnSync(
    process.execPath,
    ['--conditions=@au/source', '--import', 'tsx', join(here, `${bench}.bench.ts`), ...rest],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
