// InProcessBackend + MemoryStore against a plain promise pool: 100,000 trivial
// computations at concurrency 64, launched and awaited, in one run.
// Goal (issue #2): ratio ≥ 0.3 and median launch→result latency under 50 µs.
import { asyncCompute, InProcessBackend, MemoryStore } from '@au/core';

const TOTAL = Number(process.env.BENCH_TOTAL ?? 100_000);
const CONCURRENCY = 64;
const double = (x: number) => x * 2;

async function pool(run: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) await run(next++);
    }),
  );
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure() {
  const rawMs = await pool(async (index) => double(index));

  const store = new MemoryStore();
  const backend = new InProcessBackend({ concurrency: CONCURRENCY });
  const compute = asyncCompute(double, { store, backend });
  const auMs = await pool(async (index) => {
    const result = await (await compute(index)).result();
    if (result !== index * 2) throw new Error(`wrong result ${result} for ${index}`);
  });

  // Latency: one computation at a time, launch → result.
  const latencies: number[] = [];
  for (let index = 0; index < 5_000; index++) {
    const started = performance.now();
    await (await compute(index)).result();
    latencies.push((performance.now() - started) * 1000);
  }
  await backend.close();
  await store.close();
  return { rawMs, auMs, medianLatencyUs: median(latencies) };
}

await measure(); // warm-up: JIT and allocations settle
const { rawMs, auMs, medianLatencyUs } = await measure();
const rawRate = TOTAL / (rawMs / 1000);
const auRate = TOTAL / (auMs / 1000);
console.log(`computations: ${TOTAL}, concurrency: ${CONCURRENCY}`);
console.log(`plain promise pool : ${rawRate.toFixed(0).padStart(10)} tasks/s`);
console.log(`au (in-process)    : ${auRate.toFixed(0).padStart(10)} tasks/s`);
console.log(`ratio au/raw       : ${(auRate / rawRate).toFixed(3)}  (goal ≥ 0.3)`);
console.log(`median launch→result latency: ${medianLatencyUs.toFixed(1)} µs  (goal < 50 µs)`);
