// What the benchmarks share: medians and percentiles, the machine's load average (the
// figures are only comparable with it: runs here share their cores), alternating rounds,
// and polling a producer-side condition the way au's handles poll a store.
import { cpus, loadavg } from 'node:os';

/** The `fraction` percentile of `values` (nearest rank); NaN for none. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** The median of `values` (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `load average 1.23 1.10 0.98 (2 cores)`. */
export function loadAverage(): string {
  return `load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')} (${cpus().length} cores)`;
}

/**
 * Runs every side once per round, in the same order each round (a, b, c, a, b, c…), so
 * a slow patch of a shared machine hits every side alike. Returns each side's results
 * in round order.
 */
export async function alternate<Name extends string, Result>(
  rounds: number,
  sides: Record<Name, () => Promise<Result>>,
  onResult?: (name: Name, round: number, result: Result) => void,
): Promise<Record<Name, Result[]>> {
  const names = Object.keys(sides) as Name[];
  const results = Object.fromEntries(names.map((name) => [name, [] as Result[]])) as Record<Name, Result[]>;
  for (let round = 1; round <= rounds; round++) {
    for (const name of names) {
      const result = await sides[name]();
      results[name].push(result);
      onResult?.(name, round, result);
    }
  }
  return results;
}

/**
 * Polls `check` until it returns a value, waiting 5 ms, then 1.5× longer each time up to
 * 500 ms: the schedule au's handles use on a store without `watch`, so that a producer
 * waiting for a result polls alike on every side.
 */
export async function pollFor<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let interval = 5;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error('[bench] timed out waiting for a result');
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(interval * 1.5, 500);
  }
}

/** Runs `run` over `count` indexes with at most `concurrency` calls in flight. */
export async function inFlight(
  count: number,
  concurrency: number,
  run: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await run(next++);
    }),
  );
}

/** `12,345/s` */
export const perSecond = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;

/** An argument `--name=value` of the command line, or `fallback`. */
export function argument(name: string, fallback: number): number {
  const given = process.argv.find((item) => item.startsWith(`--${name}=`));
  return given === undefined ? fallback : Number(given.slice(name.length + 3));
}
