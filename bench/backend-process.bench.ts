// ProcessBackend + MemoryStore against raw tinypool with `runtime: 'child_process'`: the
// same trivial task, the same number of processes, alternating rounds (each after a warm-up; medians),
// printed as tasks per second and a ratio. au's side includes everything a user pays
// for: creating the record, the executor's claim and result writes, encoding, and
// reading every result through its handle.
//
// This file is also the task module both pools load: a default export for tinypool
// and a `defineTask` export for au. Run: `pnpm bench backend-process [count] [processes] [rounds]`.
import { defineTask, InProcessBackend } from '@au/core';
import { comparePools, timeComputations, timeRaw } from './pool-comparison';

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
  const rounds = Number(process.argv[4] ?? 3);
  const file = fileURLToPath(import.meta.url);
  // Both pools start their processes with the same Node options: tsx runs this TypeScript file.
  const execArgv = ['--conditions=@au/source', '--import', 'tsx'];
  const inputs = Array.from({ length: count }, (_, index) => index);

  const raw = async () => {
    const tinypool = new Tinypool({
      filename: file,
      runtime: 'child_process',
      minThreads: processes,
      maxThreads: processes,
      idleTimeout: 60_000,
      execArgv,
    });
    const seconds = await timeRaw((n) => tinypool.run(n) as Promise<number>, inputs);
    await tinypool.destroy();
    return seconds;
  };

  const processBackend = (maxBatch?: number) =>
    new ProcessBackend({
      tasks: [file],
      concurrency: processes,
      minProcesses: processes,
      execArgv,
      ...(maxBatch === undefined ? {} : { maxBatch }),
    });
  await comparePools(
    rounds,
    {
      raw,
      au: () => timeComputations(trivial, processBackend(), inputs),
      unbatched: () => timeComputations(trivial, processBackend(1), inputs),
      coreAlone: () => timeComputations(trivial, new InProcessBackend({ concurrency: processes }), inputs),
    },
    {
      count,
      workers: `${processes} processes`,
      rawName: 'raw tinypool (child_process)',
      backendName: 'ProcessBackend',
    },
  );
}

// Only the process the bench runner started runs the benchmark; the pools' processes load this file as a task module.
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
