import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { conformanceTasksUrl } from '@au/testing';

const entry = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));

/** Starts a worker process and resolves once it listens on the queue. */
export function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(entry, [], {
    execArgv: ['--conditions=@au/source', '--import', 'tsx'],
    env: { ...process.env, TASK_MODULES: conformanceTasksUrl.href, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('[test] worker process did not start within 20 s')),
      20_000,
    );
    child.once('message', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`[test] worker process exited early with ${code}`));
    });
  });
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
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`[test] worker process exited early with ${code}`)));
    child.send('go');
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
