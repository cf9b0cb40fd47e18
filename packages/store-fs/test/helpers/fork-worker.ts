import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerFile = fileURLToPath(new URL('../fixtures/store-worker.ts', import.meta.url));
const started = new Set<ChildProcess>();

export interface Worker {
  child: ChildProcess;
  /** The next message of this type (rejects if the child exits first). */
  next<T = Record<string, unknown>>(type: string): Promise<T>;
  /** Resolves with the exit code (or signal) once the child has exited. */
  exited: Promise<number | string | null>;
}

/** Starts `fixtures/store-worker.ts` as a TypeScript child process. */
export function forkWorker(args: string[]): Worker {
  const child = fork(workerFile, args, {
    execArgv: ['--conditions=@au/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  started.add(child);
  const messages: { type: string }[] = [];
  const waiters: { type: string; resolve: (message: never) => void; reject: (error: Error) => void }[] = [];
  let exitCode: number | string | null | undefined;
  const exited = new Promise<number | string | null>((resolve) => {
    child.on('exit', (code, signal) => {
      started.delete(child);
      exitCode = code ?? signal;
      for (const waiter of waiters.splice(0)) {
        waiter.reject(
          new Error(`the worker ${args[0]} exited (${String(exitCode)}) before "${waiter.type}"`),
        );
      }
      resolve(exitCode);
    });
  });
  child.on('message', (message: { type: string }) => {
    const index = waiters.findIndex((waiter) => waiter.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message as never);
    else messages.push(message);
  });
  return {
    child,
    exited,
    next<T>(type: string) {
      const index = messages.findIndex((message) => message.type === type);
      if (index >= 0) return Promise.resolve(messages.splice(index, 1)[0] as T);
      if (exitCode !== undefined) {
        return Promise.reject(
          new Error(`the worker ${args[0]} exited (${String(exitCode)}) before "${type}"`),
        );
      }
      return new Promise<T>((resolve, reject) => waiters.push({ type, resolve, reject }));
    },
  };
}

/** Kills every worker still running (for afterEach). */
export function killWorkers(): void {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}
