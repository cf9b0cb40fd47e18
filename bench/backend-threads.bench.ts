// ThreadsBackend + MemoryStore against raw Piscina: the same trivial task, the same
// pool size, one run each (after a warm-up), printed as tasks per second and a ratio.
// au's side includes everything a user pays for: creating the record, the executor's
// claim and result writes, encoding, and reading every result through its handle.
//
// This file is also the task module both pools load: a default export for Piscina and
// a `defineTask` export for au. Run: `pnpm bench backend-threads [count] [threads]`.
import { isMainThread } from 'node:worker_threads';
import { asyncCompute, defineTask, InProcessBackend, MemoryStore } from '@au/core';

export const trivial = defineTask({ name: 'bench.trivial', run: (n: number) => n + 1 });

/** Piscina's handler: the same work. */
export default function trivialHandler(n: number): number {
  return n + 1;
}

async function main(): Promise<void> {
  const { createRequire } = await import('node:module');
  const { fileURLToPath } = await import('node:url');
  const { Piscina } = await import('piscina');
  const { ThreadsBackend } = await import('../packages/backend-threads/src/index');
  const count = Number(process.argv[2] ?? 20_000);
  const threads = Number(process.argv[3] ?? 2);
  const file = fileURLToPath(import.meta.url);
  // Node 20 runs no ESM loader hooks in worker threads: TypeScript needs tsx's CommonJS hook there.
  const execArgv = [
    '--conditions=@au/source',
    '--require',
    createRequire(import.meta.url).resolve('tsx/cjs'),
  ];
  const inputs = Array.from({ length: count }, (_, index) => index);

  const piscina = new Piscina<number, number>({
    filename: file,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    execArgv,
  });
  await Promise.all(inputs.slice(0, 200).map((n) => piscina.run(n)));
  let started = performance.now();
  const raw = await Promise.all(inputs.map((n) => piscina.run(n)));
  const rawSeconds = (performance.now() - started) / 1000;
  await piscina.destroy();
  check(raw, count);

  // maxBatch 1 sends every attempt alone: the reference line below, without batching.
  const runAu = async (maxBatch?: number): Promise<number> => {
    const store = new MemoryStore();
    const backend = new ThreadsBackend({
      tasks: [file],
      concurrency: threads,
      minThreads: threads,
      execArgv,
      ...(maxBatch === undefined ? {} : { maxBatch }),
    });
    const compute = asyncCompute(trivial, { store, backend });
    await Promise.all((await compute.map(inputs.slice(0, 200).map((n) => [n]))).map((h) => h.result()));
    const begin = performance.now();
    const handles = await compute.map(inputs.map((n) => [n]));
    const au = await Promise.all(handles.map((handle) => handle.result({ timeout: 120_000 })));
    const seconds = (performance.now() - begin) / 1000;
    await backend.close();
    await store.close();
    check(au, count);
    return seconds;
  };
  const auSeconds = await runAu();
  const unbatchedSeconds = await runAu(1);

  // Reference: core alone (records, executor, handles) on the event loop, no pool at all.
  const inProcessStore = new MemoryStore();
  const inProcess = new InProcessBackend({ concurrency: threads });
  const reference = asyncCompute(trivial, { store: inProcessStore, backend: inProcess });
  await Promise.all((await reference.map(inputs.slice(0, 200).map((n) => [n]))).map((h) => h.result()));
  started = performance.now();
  const referenceHandles = await reference.map(inputs.map((n) => [n]));
  check(await Promise.all(referenceHandles.map((handle) => handle.result())), count);
  const referenceSeconds = (performance.now() - started) / 1000;
  await inProcess.close();

  const rawRate = count / rawSeconds;
  const auRate = count / auSeconds;
  console.log(`${count} trivial tasks, ${threads} threads`);
  console.log(
    `raw Piscina                  : ${rawRate.toFixed(0).padStart(7)} tasks/s (${rawSeconds.toFixed(2)} s)`,
  );
  console.log(
    `ThreadsBackend + MemoryStore : ${auRate.toFixed(0).padStart(7)} tasks/s (${auSeconds.toFixed(2)} s)`,
  );
  console.log(`ratio au / raw               : ${(auRate / rawRate).toFixed(2)} (goal ≥ 0.80)`);
  console.log(
    `reference: ThreadsBackend with maxBatch 1 (every attempt alone): ${(count / unbatchedSeconds).toFixed(0)} tasks/s (ratio ${(rawSeconds / unbatchedSeconds).toFixed(2)})`,
  );
  console.log(
    `reference: InProcessBackend + MemoryStore (core alone, no pool): ${(count / referenceSeconds).toFixed(0)} tasks/s`,
  );
}

function check(results: readonly number[], count: number): void {
  if (results.length !== count || results.some((value, index) => value !== index + 1)) {
    throw new Error('[bench] wrong results');
  }
}

if (isMainThread && process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
