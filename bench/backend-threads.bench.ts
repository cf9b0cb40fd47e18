// ThreadsBackend + MemoryStore against raw Piscina: the same trivial task, the same
// pool size, one run each (after a warm-up), printed as tasks per second and a ratio.
// au's side includes everything a user pays for: creating the record, the executor's
// claim and result writes, encoding, and reading every result through its handle.
//
// This file is also the task module both pools load: a default export for Piscina and
// a `defineTask` export for au. Run: `pnpm bench backend-threads [count] [threads] [rounds]`.
import { isMainThread } from 'node:worker_threads';
import { defineTask, InProcessBackend } from '@au/core';
import { comparePools, timeComputations, timeRaw } from './pool-comparison';

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
  const rounds = Number(process.argv[4] ?? 3);
  const file = fileURLToPath(import.meta.url);
  // Node 20 runs no ESM loader hooks in worker threads: TypeScript needs tsx's CommonJS hook there.
  const execArgv = [
    '--conditions=@au/source',
    '--require',
    createRequire(import.meta.url).resolve('tsx/cjs'),
  ];
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

if (isMainThread && process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
