import { appendFileSync, writeFileSync } from 'node:fs';
import { defineTask, type TaskContext } from '@au/core';

/*
 * The tasks `testBackend` launches. Backends that load task modules (threads,
 * processes, queue workers) are built with `conformanceTasksUrl`, which points at this
 * file: it imports only `@au/core` and Node built-ins, so it loads in any thread,
 * process or worker. Every export is a task; `conformanceTasks` lists them.
 */

/** Returns its input unchanged. */
export const echoTask = defineTask({
  name: 'au-conformance.echo',
  run: (input: unknown) => input,
});

/** Adds two numbers. */
export const addTask = defineTask({
  name: 'au-conformance.add',
  run: ({ a, b }: { a: number; b: number }) => a + b,
});

/** Throws a `TypeError` carrying `code` (default `E_CONFORMANCE`). */
export const failTask = defineTask({
  name: 'au-conformance.fail',
  run: ({ message, code = 'E_CONFORMANCE' }: { message: string; code?: string }): never => {
    throw Object.assign(new TypeError(message), { code });
  },
});

/** Sleeps `ms` in `steps` (default 4), reporting `{ done, total }` after each; stops when aborted. */
export const sleepTask = defineTask({
  name: 'au-conformance.sleep',
  run: async ({ ms, steps = 4 }: { ms: number; steps?: number }, context) => {
    for (let step = 1; step <= steps; step++) {
      await pause(ms / steps, context.signal);
      context.progress({ done: step, total: steps });
    }
    return { slept: ms };
  },
});

/** Like `sleep`, with a 200 ms timeout of its own: always fails with `TimeoutError` for `ms` above that. */
export const timeoutTask = defineTask({
  name: 'au-conformance.timeout',
  timeout: 200,
  run: async ({ ms }: { ms: number }, context) => {
    await pause(ms, context.signal);
    return { slept: ms };
  },
});

/**
 * Sleeps `ms` ignoring its signal, then returns `{ late: true }`: a completion that
 * arrives after a cancel (which must not overwrite it).
 */
export const stubbornTask = defineTask({
  name: 'au-conformance.stubborn',
  run: async ({ ms }: { ms: number }) => {
    await pause(ms);
    return { late: true };
  },
});

/**
 * A busy loop of `ms` that never yields and ignores its signal: only a preemptive
 * cancel (terminating the thread or process) stops it. When `heartbeatFile` is given,
 * writes `Date.now()` to it every ~20 ms so a test can see whether it still runs.
 */
export const spinTask = defineTask({
  name: 'au-conformance.spin',
  run: ({ ms, heartbeatFile }: { ms: number; heartbeatFile?: string }) => {
    const end = Date.now() + ms;
    let beat = 0;
    while (Date.now() < end) {
      if (heartbeatFile !== undefined && Date.now() - beat >= 20) {
        beat = Date.now();
        writeFileSync(heartbeatFile, String(beat));
      }
    }
    return { spun: ms };
  },
});

/** Fails while `attempt < succeedOn`, then returns `{ attempt }`. No retry policy of its own. */
export const flakyTask = defineTask({
  name: 'au-conformance.flaky',
  run: ({ succeedOn }: { succeedOn: number }, context) => flaky(succeedOn, context),
});

/** `flaky` with a policy: 3 attempts, exponential backoff from 100 ms (waits 100 then 200 ms). */
export const retryingTask = defineTask({
  name: 'au-conformance.retrying',
  retry: { attempts: 3, backoff: 'exponential', delay: 100 },
  run: ({ succeedOn }: { succeedOn: number }, context) => flaky(succeedOn, context),
});

/** Sleeps `ms` (honours the signal) and returns when it ran: `{ id, start, end }` in `Date.now()` ms. */
export const stampTask = defineTask({
  name: 'au-conformance.stamp',
  run: async ({ id, ms }: { id: string; ms: number }, context) => {
    const start = Date.now();
    await pause(ms, context.signal);
    return { id, start, end: Date.now() };
  },
});

/**
 * Appends one line, `<key> <attempt>`, to `file` each time it runs, then sleeps `ms`
 * (default 0; honours the signal) and returns `value` (default `null`). The file counts
 * the runs wherever the task runs (thread, process, another worker on this machine).
 */
export const traceTask = defineTask({
  name: 'au-conformance.trace',
  run: async ({ file, ms = 0, value = null }: { file: string; ms?: number; value?: unknown }, context) => {
    appendFileSync(file, `${context.key} ${context.attempt}\n`);
    if (ms > 0) await pause(ms, context.signal);
    return value;
  },
});

/** Reports each of `values` as progress, `interval` ms apart (default 150), then returns how many. */
export const progressTask = defineTask({
  name: 'au-conformance.progress',
  run: async ({ values, interval = 150 }: { values: unknown[]; interval?: number }, context) => {
    for (const value of values) {
      context.progress(value);
      await pause(interval, context.signal);
    }
    return values.length;
  },
});

/**
 * Returns `n + 1` at once: a task of microseconds, which thread and process pools send
 * in batches once measured. `n = -1` reports progress `'spinning'`, then spins until its
 * thread or process is stopped; `n = -2` exits its thread or process.
 */
export const quickTask = defineTask({
  name: 'au-conformance.quick',
  run: (n: number, context: TaskContext) => {
    if (n === -1) {
      context.progress('spinning');
      for (let spins = 0; ; spins += 1) Math.sqrt(spins);
    }
    if (n === -2) process.exit(1);
    return n + 1;
  },
});

/** Returns the `meta` its context carries: what the launch wrote reaches the task. */
export const metaTask = defineTask({
  name: 'au-conformance.meta',
  run: (_input: unknown, context: TaskContext) => ({ ...context.meta }),
});

/** Sleeps `ms` on its first attempt (honours the signal); any later attempt returns `{ attempt }` at once. */
export const slowFirstTask = defineTask({
  name: 'au-conformance.slow-first',
  run: async ({ ms }: { ms: number }, context) => {
    if (context.attempt === 1) await pause(ms, context.signal);
    return { attempt: context.attempt };
  },
});

/**
 * Writes each of `lines` with `ctx.log.info` (the first with data `{ index: 0 }`), then
 * a warning, then fails with `message` when it is given, else returns how many it wrote.
 */
export const logTask = defineTask({
  name: 'au-conformance.log',
  run: ({ lines, message }: { lines: string[]; message?: string }, context: TaskContext) => {
    lines.forEach((line, index) => {
      if (index === 0) context.log.info({ index }, line);
      else context.log.info(line);
    });
    context.log.warn('done logging');
    if (message !== undefined) throw new Error(message);
    return lines.length;
  },
});

/**
 * Sleeps `ms` (honours the signal) and returns when it ran, `{ id, group, start, end }`;
 * at most 2 computations of one `group` run at once (a concurrency key from the input).
 */
export const keyedTask = defineTask({
  name: 'au-conformance.keyed',
  concurrency: { limit: 2, key: (input: { id: string; group: string; ms: number }) => input.group },
  run: async ({ id, group, ms }: { id: string; group: string; ms: number }, context) => {
    const start = Date.now();
    await pause(ms, context.signal);
    return { id, group, start, end: Date.now() };
  },
});

/** `stamp` as a task-wide mutex: one computation of it runs at a time. */
export const mutexTask = defineTask({
  name: 'au-conformance.mutex',
  concurrency: { limit: 1 },
  run: async ({ id, ms }: { id: string; ms: number }, context) => {
    const start = Date.now();
    await pause(ms, context.signal);
    return { id, start, end: Date.now() };
  },
});

/** Returns `{ id, start }` at once; at most 3 computations of one `group` start per second. */
export const rateLimitedTask = defineTask({
  name: 'au-conformance.rate-limited',
  rateLimit: { limit: 3, interval: 1000, key: (input: { id: string; group: string }) => input.group },
  run: ({ id }: { id: string; group: string }) => ({ id, start: Date.now() }),
});

/** Every conformance task, by short name. */
export const conformanceTasks = {
  echo: echoTask,
  add: addTask,
  fail: failTask,
  sleep: sleepTask,
  timeout: timeoutTask,
  stubborn: stubbornTask,
  spin: spinTask,
  flaky: flakyTask,
  retrying: retryingTask,
  stamp: stampTask,
  progress: progressTask,
  quick: quickTask,
  trace: traceTask,
  meta: metaTask,
  slowFirst: slowFirstTask,
  log: logTask,
  keyed: keyedTask,
  mutex: mutexTask,
  rateLimited: rateLimitedTask,
} as const;

// ---- private helpers --------------------------------------------------------------

function flaky(succeedOn: number, context: TaskContext): { attempt: number } {
  if (context.attempt < succeedOn) {
    throw Object.assign(new Error(`attempt ${context.attempt} fails on purpose`), { code: 'E_FLAKY' });
  }
  return { attempt: context.attempt };
}

/** Resolves after `ms` of real time; rejects with the signal's reason when it aborts first. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
