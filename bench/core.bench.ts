// InProcessBackend + MemoryStore against what a user would pick instead for in-process
// work at a bounded concurrency: 100,000 trivial computations (x → 2x) at concurrency 64,
// all submitted at once and every result awaited, alternating rounds after a warm-up.
//
// Why these references: without au, running async functions in-process with a
// concurrency bound and getting their results back is what p-limit does (the most used
// such library: `limit(() => fn(x))` resolves with the result), and p-queue when the
// user also wants a queue object (priorities, pause, `onIdle`, events). A hand-written
// promise pool (the previous reference) is not something users pick and measures only
// the loop. Both references keep nothing: no records, no keys to find a result again, no
// retries; au's side pays for those (a record per computation in the MemoryStore, a
// handle per computation, results read through the handles). Goal (issue #2, printed,
// not asserted): au ≥ 0.3× p-limit, median launch→result latency under 50 µs.
//
// `pnpm bench core` (BENCH_TOTAL=… for another count, --rounds=…)
import { asyncCompute, InProcessBackend, MemoryStore } from '@au/core';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { alternate, argument, loadAverage, median, perSecond } from './measure';

const TOTAL = Number(process.env.BENCH_TOTAL ?? 100_000);
const ROUNDS = argument('rounds', 3);
const LATENCY_SAMPLES = 5_000;
const CONCURRENCY = 64;
const double = (x: number) => x * 2;
const inputs = Array.from({ length: TOTAL }, (_, index) => index);

interface Outcome {
  /** Computations per second, all submitted → all results held. */
  rate: number;
  /** Microseconds, one computation at a time, submit → result. */
  latencies: number[];
}

function check(results: readonly number[]): void {
  if (results.length !== TOTAL || results.some((value, index) => value !== index * 2)) {
    throw new Error('[bench] wrong results');
  }
}

/** Times `all` over every input, then `one` for single computations in turn. */
async function time(
  all: () => Promise<number[]>,
  one: (n: number) => Promise<number>,
  close: () => Promise<void> = async () => undefined,
): Promise<Outcome> {
  const started = performance.now();
  const results = await all();
  const rate = TOTAL / ((performance.now() - started) / 1000);
  check(results);
  const latencies: number[] = [];
  for (let n = 0; n < LATENCY_SAMPLES; n++) {
    const begin = performance.now();
    await one(n);
    latencies.push((performance.now() - begin) * 1000);
  }
  await close();
  return { rate, latencies };
}

const sides = {
  au: async () => {
    const store = new MemoryStore();
    const backend = new InProcessBackend({ concurrency: CONCURRENCY });
    const compute = asyncCompute(double, { store, backend });
    return time(
      async () => {
        const handles = await compute.map(inputs.map((n) => [n] as [number]));
        return Promise.all(handles.map((handle) => handle.result()));
      },
      async (n) => (await compute(n)).result(),
      async () => {
        await backend.close();
        await store.close();
      },
    );
  },
  'p-limit': async () => {
    const limit = pLimit(CONCURRENCY);
    return time(
      () => Promise.all(inputs.map((n) => limit(async () => double(n)))),
      (n) => limit(async () => double(n)),
    );
  },
  'p-queue': async () => {
    const queue = new PQueue({ concurrency: CONCURRENCY });
    return time(
      () => Promise.all(inputs.map((n) => queue.add(async () => double(n)))),
      (n) => queue.add(async () => double(n)),
    );
  },
};

console.log(
  `core: ${TOTAL.toLocaleString('en-US')} computations, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds`,
);
console.log(`start: ${loadAverage()}`);
await alternate(1, sides); // warm-up: JIT and allocations settle
const rounds = await alternate(ROUNDS, sides, (name, round, outcome) =>
  console.log(
    `  round ${round} ${name.padEnd(8)} ${perSecond(outcome.rate).padStart(12)}  median latency ${median(outcome.latencies).toFixed(1)} µs`,
  ),
);
const rate = (name: keyof typeof sides) => median(rounds[name].map((outcome) => outcome.rate));
const latency = (name: keyof typeof sides) => median(rounds[name].flatMap((outcome) => outcome.latencies));
console.log(`medians of ${ROUNDS} rounds:`);
for (const name of Object.keys(sides) as (keyof typeof sides)[]) {
  console.log(
    `  ${name.padEnd(8)} ${perSecond(rate(name)).padStart(12)}  median latency ${latency(name).toFixed(1)} µs`,
  );
}
console.log(`  ratio au / p-limit: ${(rate('au') / rate('p-limit')).toFixed(3)} (goal ≥ 0.3)`);
console.log(`  ratio au / p-queue: ${(rate('au') / rate('p-queue')).toFixed(3)}`);
console.log(`  au median launch→result latency: ${latency('au').toFixed(1)} µs (goal < 50 µs)`);
console.log(`end: ${loadAverage()}`);
