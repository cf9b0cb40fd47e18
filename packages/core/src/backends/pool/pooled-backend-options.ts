import type { ComputationStore } from '../../contracts/store';
import type { TaskLogger } from '../../task';
import type { PoolTransport, PoolTransportContext } from './pool-transport';

/** The options every pooled backend (ThreadsBackend, ProcessBackend) takes. */
export interface PoolOptions {
  /**
   * The task modules the workers load: paths or `file:` URLs of modules whose exports are
   * `defineTask` results. The backend imports them too, to refuse unknown tasks at launch.
   */
  tasks: string | URL | readonly (string | URL)[];
  /** Tasks running at once, which is also the most workers alive. @default os.availableParallelism() */
  concurrency?: number;
  /**
   * Most computations that may wait for a worker (delayed ones included); a launch past
   * it is refused with `QueueFullError` before anything is written. @default no limit
   */
  maxQueued?: number;
  /** Milliseconds between the cooperative abort (`ctx.signal`) and the forced end of the worker. @default 250 */
  cancelGracePeriod?: number;
  /** Milliseconds an idle worker lives before it is stopped. @default 30000 */
  idleTimeout?: number;
  /** Node options of the workers. @default the transport's (tsx for TypeScript, else the process's own) */
  execArgv?: string[];
  /** Minimum ms between two progress writes of one computation. @default 100 */
  progressInterval?: number;
  /** Where backend-level problems are logged. @default silentLogger */
  logger?: TaskLogger;
  /**
   * Attempts of short tasks (runs averaging under 1 ms) sent to a worker in one message,
   * within about 1 ms of their mean run time; 1 sends every attempt alone. See "Short
   * tasks travel in batches" in the README.
   * @default 64
   */
  maxBatch?: number;
  /** The store its work writes. @default the store of the first launch (core binds it) */
  store?: ComputationStore;
}

/** How a backend package makes a `PooledBackend` of its transport. */
export interface PooledBackendSettings<Transport extends PoolTransport> {
  /** The backend's name: `[au] [<name>] …` in errors, `backend.name`. */
  name: string;
  /** The class users build, in error messages: `ThreadsBackend`. */
  className: string;
  /** What its workers are, in error messages: `threads`, `processes`. */
  workers: string;
  /** The user's options (already checked for unknown names). */
  options: PoolOptions;
  /** Builds the transport, once the shared options are valid. */
  createTransport(context: PoolTransportContext): Transport;
}
