import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TaskLogger } from '@au/core';
import { conformanceTasksUrl } from '@au/testing';

const entry = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));

/** Resolves on the first message of the child that `accept` takes. */
function nextMessage(
  child: ChildProcess,
  accept: (message: unknown) => boolean,
  what: string,
  timeout: number,
) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`[test] worker process: ${what} did not come within ${timeout} ms`));
    }, timeout);
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      cleanup();
      resolve();
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`[test] worker process exited early with ${code}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const isReady = (message: unknown) => message === 'ready' || message === 'loaded';

/** Starts a worker process and resolves once it listens on the queue. */
export async function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(entry, [], {
    execArgv: ['--conditions=@au/source', '--import', 'tsx'],
    env: { ...process.env, TASK_MODULES: conformanceTasksUrl.href, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await nextMessage(child, isReady, 'its start', 20_000);
  return child;
}

/**
 * Starts a worker process that loads its modules, then waits: `goWorkerProcess` makes it
 * take jobs. For a quick "start again" in the chaos test, where loading takes seconds.
 */
export function preloadWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  return startWorkerProcess({ ...env, WAIT_FOR_GO: '1' });
}

/** Lets a preloaded worker process take jobs; resolves once it listens on the queue. */
export function goWorkerProcess(child: ChildProcess): Promise<void> {
  const ready = nextMessage(child, isReady, 'its start', 20_000);
  child.send('go');
  return ready;
}

/**
 * Cuts (`true`) or restores (`false`) the store connection of a worker process started
 * with `STORE_OUTAGES=1`; resolves once the child has done it.
 */
export function setStoreOutage(child: ChildProcess, outage: boolean): Promise<void> {
  const done = nextMessage(
    child,
    (message) => (message as { outage?: unknown } | undefined)?.outage === outage,
    `the store outage ${outage ? 'begin' : 'end'}`,
    5000,
  );
  child.send({ outage });
  return done;
}

/** Writes the log lines a worker process started with `FORWARD_LOGS=1` sends to `logger()` of the moment. */
export function forwardLogs(child: ChildProcess, logger: () => TaskLogger | undefined): void {
  child.on('message', (message: unknown) => {
    const line = (message as { log?: { level: 'info' | 'warn' | 'error'; fields: object; message: string } })
      ?.log;
    if (line !== undefined) logger()?.[line.level](line.fields, line.message);
  });
}

/** Stops a worker process (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
export async function stopWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
