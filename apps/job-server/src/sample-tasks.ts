// The job server's sample tasks. This module exports only tasks (every export is a
// `defineTask` result), so worker threads and distributed workers can load it as a
// task module, like any module named in AU_TASKS.
import { defineTask, type TaskContext } from '@au/core';
import { z } from 'zod';

/** n! as a decimal string (exact, through BigInt): results too big for a JSON number. */
export const factorial = defineTask({
  name: 'factorial',
  description: 'n! computed exactly; the result is a decimal string (n up to 20000)',
  // CPU-bound: with AU_ROUTES=cpu=process (or threads) it leaves the server's event loop.
  resources: 'cpu',
  input: z.object({ n: z.number().int().min(0).max(20_000) }),
  run: ({ n }, context) => {
    let result = 1n;
    for (let factor = 2n; factor <= BigInt(n); factor++) {
      result *= factor;
      if (factor % 1000n === 0n) context.signal.throwIfAborted();
    }
    return result.toString();
  },
});

/** How many primes are below `limit`: CPU-bound, reports progress, stops on cancel. */
export const primes = defineTask({
  name: 'primes',
  description: 'Counts the primes below `limit` by trial division (CPU-bound), with progress',
  input: z.object({ limit: z.number().int().min(2).max(50_000_000) }),
  run: ({ limit }, context) => {
    let count = 0;
    const step = Math.max(1, Math.floor(limit / 100));
    for (let candidate = 2; candidate < limit; candidate++) {
      if (isPrime(candidate)) count++;
      if (candidate % step === 0) {
        context.signal.throwIfAborted();
        context.progress({ checked: candidate, total: limit, found: count });
      }
    }
    return { limit, count };
  },
});

/** Waits `seconds`, reporting progress each tenth; a cancel stops it at once. */
export const sleep = defineTask({
  name: 'sleep',
  description: 'Sleeps for `seconds` (up to an hour) with progress; cancellable',
  input: z.object({ seconds: z.number().min(0).max(3600) }),
  run: async ({ seconds }, context) => {
    const steps = 10;
    for (let step = 1; step <= steps; step++) {
      await delay((seconds * 1000) / steps, context);
      context.progress({ done: step, total: steps });
    }
    return { slept: seconds };
  },
});

/** Always throws: try the error path (409 from the result endpoint). */
export const fail = defineTask({
  name: 'fail',
  description: 'Always fails with the given message: for trying the error path',
  input: z.object({ message: z.string().max(1000).default('this task always fails') }),
  run: ({ message }) => {
    throw Object.assign(new Error(message), { code: 'SAMPLE_FAILURE' });
  },
});

function isPrime(candidate: number): boolean {
  if (candidate < 4) return candidate >= 2;
  if (candidate % 2 === 0) return false;
  for (let divisor = 3; divisor * divisor <= candidate; divisor += 2) {
    if (candidate % divisor === 0) return false;
  }
  return true;
}

function delay(ms: number, context: TaskContext): Promise<void> {
  return new Promise((resolve, reject) => {
    context.signal.throwIfAborted();
    const onAbort = () => {
      clearTimeout(timer);
      reject(context.signal.reason);
    };
    const timer = setTimeout(() => {
      context.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    context.signal.addEventListener('abort', onAbort, { once: true });
  });
}
