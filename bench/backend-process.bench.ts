// ProcessBackend + MemoryStore against raw tinypool with `runtime: 'child_process'`: the
// same trivial task, the same number of processes, one run each (after a warm-up),
// printed as tasks per second and a ratio. au's side includes everything a user pays
// for: creating the record, the executor's claim and result writes, encoding, and
// reading every result through its handle.
//
// This file is also the task module both pools load: a default export for tinypool
// and a `defineTask` export for au. Run: `pnpm bench backend-process [count] [processes]`.
import { asyncCompute, defineTask, InProcessBackend, MemoryStore } from '@au/core';

export const trivial = defineTask({ name: 'bench.trivial', run: (n: number) => n + 1 });

/** tinypool's handler: the same work. */
export default function trivialHandler(n: number): number {
  return n + 1;
}

async function main(): Promise<void> {
  const { fileURLToPath } = await import('node:url');
  const { Tinypool } = await import('tinypool');
  const { ProcessBackend } = await import('../packages/backend-process/src/index');
  const count = Number(process.argv[2] ?? 20_000);
  const processes = Number(process.argv[3] ?? 2);
  const file = fileURLToPath(import.meta.url);
  // Both pools start their processes with the same Node options: tsx runs this TypeScript file.
  const execArgv = ['--conditions=@au/source', '--import', 'tsx'];
  const inputs = Array.from({ length: count }, (_, index) => index);

  const tinypool = new Tinypool({
    filename: file,
    runtime: 'child_process',
    minThreads: processes,
    maxThreads: processes,
    idleTimeout: 60_000,
    execArgv,
  });
  await Promise.all(inputs.slice(0, 200).map((n) => tinypool.run(n)));
  let started = performance.now();
  const raw: number[] = await Promise.all(inputs.map((n) => tinypool.run(n)));
  const rawSeconds = (performance.now() - started) / 1000;
  await tinypool.destroy();
  check(raw, count);

  // maxBatch 1 sends every attempt alone: the reference line below, without batching.
  const runAu = async (maxBatch?: number): Promise<number> => {
    const store = new MemoryStore();
    const backend = new ProcessBackend({
      tasks: [file],
      concurrency: processes,
      minProcesses: processes,
      execArgv,
      ...(maxBatch === undefined ? {} : { maxBatch }),
    });
    const compute = asyncCompute(trivial, { store, backend });
    await Promise.all((await compute.map(inputs.slice(0, 200).map((n) => [n]))).map((h) => h.result()));
    const begin = performance.now();
    const handles = await compute.map(inputs.map((n) => [n]));
    const au = await Promise.all(handles.map((handle) => handle.result({ timeout: 300_000 })));
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
  const inProcess = new InProcessBackend({ concurrency: processes });
  const reference = asyncCompute(trivial, { store: inProcessStore, backend: inProcess });
  await Promise.all((await reference.map(inputs.slice(0, 200).map((n) => [n]))).map((h) => h.result()));
  started = performance.now();
  const referenceHandles = await reference.map(inputs.map((n) => [n]));
  check(await Promise.all(referenceHandles.map((handle) => handle.result())), count);
  const referenceSeconds = (performance.now() - started) / 1000;
  await inProcess.close();

  const rawRate = count / rawSeconds;
  const auRate = count / auSeconds;
  console.log(`${count} trivial tasks, ${processes} processes`);
  console.log(
    `raw tinypool (child_process) : ${rawRate.toFixed(0).padStart(7)} tasks/s (${rawSeconds.toFixed(2)} s)`,
  );
  console.log(
    `ProcessBackend + MemoryStore : ${auRate.toFixed(0).padStart(7)} tasks/s (${auSeconds.toFixed(2)} s)`,
  );
  console.log(`ratio au / raw               : ${(auRate / rawRate).toFixed(2)} (goal ≥ 0.80)`);
  console.log(
    `reference: ProcessBackend with maxBatch 1 (every attempt alone): ${(count / unbatchedSeconds).toFixed(0)} tasks/s (ratio ${(rawSeconds / unbatchedSeconds).toFixed(2)})`,
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

// Only the process the bench runner started runs the benchmark; the pools' processes load this file as a task module.
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
