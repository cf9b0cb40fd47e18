// ThreadsBackend + MemoryStore against raw Piscina: the same trivial task, the same
// pool size, one run each (after a warm-up), printed as tasks per second and a ratio.
// au's side includes everything a user pays for: creating the record, the executor's
// claim and result writes, encoding, and reading every result through its handle.
//
// Both pools load `trivial-task.js` (plain JavaScript: no loader in the threads) and au
// runs built, as its users run it (`bench/run.ts` builds first).
// Run: `pnpm bench backend-threads [count] [threads] [rounds]`.
import { fileURLToPath } from 'node:url';
import { ThreadsBackend } from '@au/backend-threads';
import { InProcessBackend } from '@au/core';
import { Piscina } from 'piscina';
import { comparePools, timeComputations, timeRaw } from './pool-comparison';
import { trivial } from './trivial-task.js';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 20_000);
  const threads = Number(process.argv[3] ?? 2);
  const rounds = Number(process.argv[4] ?? 3);
  const file = fileURLToPath(new URL('./trivial-task.js', import.meta.url));
  // The threads run the task module as it is, without the main thread's tsx.
  const execArgv: string[] = [];
  const inputs = Array.from({ length: count }, (_, index) => index);

  const raw = async () => {
    const piscina = new Piscina<number, number>({
      filename: file,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      execArgv,
    });
    const seconds = await timeRaw((n) => piscina.run(n), inputs);
    await piscina.destroy();
    return seconds;
  };

  const threadsBackend = (maxBatch?: number) =>
    new ThreadsBackend({
      tasks: [file],
      concurrency: threads,
      minThreads: threads,
      execArgv,
      ...(maxBatch === undefined ? {} : { maxBatch }),
    });
  await comparePools(
    rounds,
    {
      raw,
      au: () => timeComputations(trivial, threadsBackend(), inputs),
      unbatched: () => timeComputations(trivial, threadsBackend(1), inputs),
      coreAlone: () => timeComputations(trivial, new InProcessBackend({ concurrency: threads }), inputs),
    },
    { count, workers: `${threads} threads`, rawName: 'raw Piscina', backendName: 'ThreadsBackend' },
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
