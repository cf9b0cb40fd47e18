// What the thread-pool and process-pool benchmarks share: timing raw pool runs and au
// computations of the same trivial task (n → n + 1) in alternating rounds, and printing
// the comparison (medians of the rounds, with the load average).
import { asyncCompute, type ComputationBackend, MemoryStore, type TaskDefinition } from '@au/core';
import { alternate, loadAverage, median } from './measure';

const WARM_UP = 200;

/** Seconds for `run` over every input at once (after a warm-up); checks each result is n + 1. */
export async function timeRaw(
  run: (n: number) => Promise<number>,
  inputs: readonly number[],
): Promise<number> {
  await Promise.all(inputs.slice(0, WARM_UP).map(run));
  const started = performance.now();
  const results = await Promise.all(inputs.map(run));
  const seconds = (performance.now() - started) / 1000;
  check(results, inputs.length);
  return seconds;
}

/**
 * Seconds for launching every input as a computation of `task` on `backend` with a
 * MemoryStore and reading every result through its handle (after a warm-up); checks the
 * results and closes the backend.
 */
export async function timeComputations(
  task: TaskDefinition<number, number>,
  backend: ComputationBackend,
  inputs: readonly number[],
): Promise<number> {
  const store = new MemoryStore();
  const compute = asyncCompute(task, { store, backend });
  await Promise.all((await compute.map(inputs.slice(0, WARM_UP).map((n) => [n]))).map((h) => h.result()));
  const started = performance.now();
  const handles = await compute.map(inputs.map((n) => [n]));
  const results = await Promise.all(handles.map((handle) => handle.result({ timeout: 300_000 })));
  const seconds = (performance.now() - started) / 1000;
  await backend.close();
  await store.close();
  check(results, inputs.length);
  return seconds;
}

/** Each side, timed afresh (a new pool) once per round. */
export interface PoolSides {
  raw: () => Promise<number>;
  au: () => Promise<number>;
  unbatched: () => Promise<number>;
  coreAlone: () => Promise<number>;
}

/**
 * Runs the sides in alternating rounds (raw, au, unbatched, core alone, raw, …) and
 * prints the comparison of their median times.
 */
export async function comparePools(
  rounds: number,
  sides: PoolSides,
  names: Omit<PoolComparison, keyof PoolSides>,
): Promise<void> {
  console.log(`start: ${loadAverage()}`);
  const results = await alternate(rounds, { ...sides }, (name, round, seconds) =>
    console.log(
      `  round ${round} ${name.padEnd(10)} ${(names.count / seconds).toFixed(0).padStart(7)} tasks/s`,
    ),
  );
  printPoolComparison({
    ...names,
    raw: median(results.raw),
    au: median(results.au),
    unbatched: median(results.unbatched),
    coreAlone: median(results.coreAlone),
  });
  console.log(`medians of ${rounds} rounds; end: ${loadAverage()}`);
}

export interface PoolComparison {
  count: number;
  /** e.g. `2 threads` */
  workers: string;
  /** e.g. `raw Piscina` */
  rawName: string;
  /** e.g. `ThreadsBackend` */
  backendName: string;
  /** Seconds of each run (the median of the rounds). */
  raw: number;
  au: number;
  /** au with `maxBatch: 1`: every attempt alone. */
  unbatched: number;
  /** InProcessBackend + MemoryStore: core alone, no pool. */
  coreAlone: number;
}

export function printPoolComparison(result: PoolComparison): void {
  const rate = (seconds: number) => result.count / seconds;
  const row = (name: string, seconds: number) =>
    `${name.padEnd(29)}: ${rate(seconds).toFixed(0).padStart(7)} tasks/s (${seconds.toFixed(2)} s)`;
  console.log(`${result.count} trivial tasks, ${result.workers}`);
  console.log(row(result.rawName, result.raw));
  console.log(row(`${result.backendName} + MemoryStore`, result.au));
  console.log(`${'ratio au / raw'.padEnd(29)}: ${(result.raw / result.au).toFixed(2)} (goal ≥ 0.80)`);
  console.log(
    `reference: ${result.backendName} with maxBatch 1 (every attempt alone): ${rate(result.unbatched).toFixed(0)} tasks/s (ratio ${(result.raw / result.unbatched).toFixed(2)})`,
  );
  console.log(
    `reference: InProcessBackend + MemoryStore (core alone, no pool): ${rate(result.coreAlone).toFixed(0)} tasks/s`,
  );
}

function check(results: readonly number[], count: number): void {
  if (results.length !== count || results.some((value, index) => value !== index + 1)) {
    throw new Error('[bench] wrong results');
  }
}
