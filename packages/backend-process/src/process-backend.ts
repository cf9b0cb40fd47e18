import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkOptions, isTypeScriptModule, optionNames, PooledBackend, type PoolOptions } from '@au/core/kit';
import { ProcessPool } from './process-pool';

export interface ProcessBackendOptions extends PoolOptions {
  /**
   * The task modules the processes load: paths or `file:` URLs of modules whose exports
   * are `defineTask` results. The parent imports them too, to refuse unknown tasks at launch.
   */
  tasks: string | URL | readonly (string | URL)[];
  /** Tasks running at once, which is also the most worker processes alive. @default os.availableParallelism() */
  concurrency?: number;
  /** Milliseconds between SIGTERM (the task's signal aborts) and SIGKILL on a cancel or timeout. @default 250 */
  cancelGracePeriod?: number;
  /** Milliseconds an idle process lives before it is stopped. @default 30000 */
  idleTimeout?: number;
  /** Processes started at once, before any work arrives. @default 0 */
  minProcesses?: number;
  /**
   * Node options of the processes. @default when the worker program or a task module is
   * TypeScript, `['--conditions=@au/source', '--import', 'tsx']`; otherwise the
   * parent's own `execArgv`
   */
  execArgv?: string[];
  /** Environment of the processes. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const NAME = 'process';
const SOURCE_MODE = import.meta.url.endsWith('.ts');
const WORKER_FILE = fileURLToPath(new URL(`./process-worker.${SOURCE_MODE ? 'ts' : 'js'}`, import.meta.url));

const PROCESS_OPTIONS = optionNames<ProcessBackendOptions>({
  tasks: true,
  concurrency: true,
  maxQueued: true,
  cancelGracePeriod: true,
  idleTimeout: true,
  minProcesses: true,
  execArgv: true,
  env: true,
  progressInterval: true,
  logger: true,
  maxBatch: true,
  store: true,
});

/**
 * Runs computations in child processes: core's `PooledBackend` over a small fork pool.
 * The task runs in a child; everything else runs in the parent through core's executor.
 * A cancel or a timeout sends an abort message and SIGTERM (the task's signal aborts),
 * then SIGKILL after `cancelGracePeriod`; a task that exits or crashes its process ends
 * `failed`; the next task gets a new process.
 */
export class ProcessBackend extends PooledBackend<ProcessPool> {
  constructor(options: ProcessBackendOptions) {
    checkOptions(`[${NAME}] ProcessBackend`, options, PROCESS_OPTIONS);
    super({
      name: NAME,
      className: 'ProcessBackend',
      workers: 'processes',
      options,
      createTransport: (context) =>
        new ProcessPool(context, {
          entry: WORKER_FILE,
          execArgv: options.execArgv ?? defaultExecArgv(context.modules),
          env: options.env,
        }),
    });
    if (options.minProcesses !== undefined)
      this.transport.warm(Math.min(options.minProcesses, this.concurrency));
  }

  /** Worker processes alive. */
  get processCount(): number {
    return this.transport.size;
  }
}

/**
 * The processes' Node options when none are given: TypeScript (the worker program in
 * a source checkout, or a `.ts` task module) runs through tsx.
 */
function defaultExecArgv(modules: readonly string[]): string[] | undefined {
  if (!SOURCE_MODE && !modules.some(isTypeScriptModule)) return undefined;
  return ['--conditions=@au/source', '--import', resolveTsx()];
}

function resolveTsx(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return 'tsx';
  }
}
