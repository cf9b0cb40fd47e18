// ProcessBackend + MemoryStore against raw tinypool with `runtime: 'child_process'`: the
// same trivial task, the same number of processes, alternating rounds (each after a warm-up; medians),
// printed as tasks per second and a ratio. au's side includes everything a user pays
// for: creating the record, the executor's claim and result writes, encoding, and
// reading every result through its handle.
//
// Both pools load `trivial-task.js` (plain JavaScript: no loader in the processes) and au
// runs built, as its users run it (`bench/run.ts` builds first).
// Run: `pnpm bench backend-process [count] [processes] [rounds]`.
import { fileURLToPath } from 'node:url';
import { ProcessBackend } from '@au/backend-process';
import { InProcessBackend } from '@au/core';
import { Tinypool } from 'tinypool';
import { comparePools, timeComputations, timeRaw } from './pool-comparison';
import { trivial } from './trivial-task.js';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 20_000);
  const processes = Number(process.argv[3] ?? 2);
  const rounds = Number(process.argv[4] ?? 3);
  const file = fileURLToPath(new URL('./trivial-task.js', import.meta.url));
  // Both pools start their processes with the same Node options: none (the module is JavaScript).
  const execArgv: string[] = [];
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
