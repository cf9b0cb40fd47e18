import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { checkOptions, isTypeScriptModule, optionNames, PooledBackend, type PoolOptions } from '@au/core/kit';
import { PiscinaTransport } from './piscina-transport';

export interface ThreadsBackendOptions extends PoolOptions {
  /**
   * The task modules the threads load: paths or `file:` URLs of modules whose exports
   * are `defineTask` results (like Piscina's `filename`). The main thread imports them
   * too, to refuse unknown tasks at launch.
   */
  tasks: string | URL | readonly (string | URL)[];
  /** Tasks running at once, which is also the number of threads. @default os.availableParallelism() */
  concurrency?: number;
  /** Milliseconds between the cooperative abort (`ctx.signal`) and the thread's termination. @default 250 */
  cancelGracePeriod?: number;
  /** Milliseconds an idle thread above `minThreads` lives before it is stopped. @default 30000 */
  idleTimeout?: number;
  /** Threads started at once and kept while idle (at most `concurrency`). @default 1 */
  minThreads?: number;
  /**
   * Node options of the threads. @default when the worker file or a task module is
   * TypeScript, `['--conditions=@au/source', '--require', '<tsx/cjs>']`; otherwise the
   * process's own `execArgv`
   */
  execArgv?: string[];
  /** Memory limits of each thread (worker_threads `resourceLimits`). */
  resourceLimits?: ResourceLimits;
}

const NAME = 'threads';
const SOURCE_MODE = import.meta.url.endsWith('.ts');
const WORKER_FILE = fileURLToPath(new URL(`./thread-worker.${SOURCE_MODE ? 'ts' : 'js'}`, import.meta.url));

const THREADS_OPTIONS = optionNames<ThreadsBackendOptions>({
  tasks: true,
  concurrency: true,
  maxQueued: true,
  cancelGracePeriod: true,
  idleTimeout: true,
  minThreads: true,
  execArgv: true,
  resourceLimits: true,
  progressInterval: true,
  logger: true,
  maxBatch: true,
  store: true,
});

/**
 * Runs computations on a pool of worker threads: core's `PooledBackend` over a Piscina
 * transport. The task runs in a thread; everything else runs in the main thread through
 * core's executor. A cancel or a timeout first aborts the task's signal inside the
 * thread, then terminates the thread after `cancelGracePeriod`, so a task that never
 * yields is stopped too; the pool starts a replacement thread.
 */
export class ThreadsBackend extends PooledBackend<PiscinaTransport> {
  constructor(options: ThreadsBackendOptions) {
    checkOptions(`[${NAME}] ThreadsBackend`, options, THREADS_OPTIONS);
    super({
      name: NAME,
      className: 'ThreadsBackend',
      workers: 'threads',
      options,
      createTransport: (context) =>
        new PiscinaTransport(context, {
          filename: WORKER_FILE,
          minThreads: options.minThreads ?? 1,
          execArgv: options.execArgv ?? defaultExecArgv(context.modules),
          resourceLimits: options.resourceLimits,
        }),
    });
  }

  /** Threads alive in the pool. */
  get threadCount(): number {
    return this.transport.size;
  }
}

/**
 * The threads' Node options when none are given: TypeScript (the worker file in a
 * source checkout, or a `.ts` task module) needs tsx. Node 20 runs no ESM loader hooks
 * in worker threads (`--import tsx` is ignored there), so tsx's CommonJS hook is
 * preloaded with `--require` and TypeScript task modules are loaded with `require`.
 */
export function defaultExecArgv(modules: readonly string[]): string[] | undefined {
  if (!SOURCE_MODE && !modules.some(isTypeScriptModule)) return undefined;
  return ['--conditions=@au/source', '--require', resolveTsxHook()];
}

function resolveTsxHook(): string {
  try {
    return createRequire(import.meta.url).resolve('tsx/cjs');
  } catch {
    return 'tsx/cjs';
  }
}
