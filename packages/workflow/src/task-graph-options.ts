import type {
  Clock,
  Codec,
  ComputationBackend,
  ComputationStore,
  Middleware,
  RetryPolicy,
  TaskLogger,
} from '@au/core';
import { optionNames } from '@au/core/kit';
import type { Dependency } from './node-ref';
import type { TaskGraph } from './task-graph';

/**
 * What a node's failure does to the rest of the graph.
 * - `failFast`: every other node still pending or running is cancelled, nodes not yet
 *   launched end `cancelled`, and the graph ends `failed`.
 * - `continue`: only the failed node's dependents (transitively) end `cancelled`, with
 *   the reason; independent branches go on; the graph ends `failed` once all have ended.
 */
export type FailurePolicy = 'failFast' | 'continue';

export interface TaskGraphOptions {
  /** Where the graph's record and its nodes' records live. */
  store: ComputationStore;
  /** Where the nodes run. */
  backend: ComputationBackend;
  /** The graph's key: its record's key and the prefix of its nodes' keys. @default a generated key */
  key?: string;
  /** What a node's failure does, unless the node says otherwise. @default 'failFast' */
  failurePolicy?: FailurePolicy;
  /** Seconds the graph's and its nodes' records are kept once they end. @default each task's ttl, else kept */
  ttl?: number;
  /** Codec of nodes whose task names none. @default jsonCodec */
  codec?: Codec;
  /** Launch- and run-side middleware of every node. @default none */
  middleware?: readonly Middleware[];
  /** Free data stored in the graph record's `meta.user`. */
  meta?: Record<string, unknown>;
  logger?: TaskLogger;
  /**
   * Time source of the orchestrator: record timestamps, progress throttling, polling,
   * and the nodes' launches (give the backend and store the same clock). A virtual clock
   * from `@au/testing` drives it in tests. @default systemClock
   */
  clock?: Clock;
}

/** Options of one node. Retry, timeout and priority default to the task's. */
export interface NodeOptions<Parents extends readonly Dependency[] = readonly Dependency[]> {
  /** The node's id, unique in the graph: letters, digits, . _ : - (1 to 100). @default the task's name, then `name.2`, `name.3`… */
  id?: string;
  /** Nodes that must complete before this one starts; their results are the args function's argument. */
  dependsOn?: Parents;
  /** What this node's failure does. @default the graph's */
  failurePolicy?: FailurePolicy;
  /** @default the task's, else one attempt */
  retry?: RetryPolicy;
  /** Per-attempt limit in ms. @default the task's */
  timeout?: number;
  /** Higher runs first. @default the task's, else 0 */
  priority?: number;
  /** The node's computation key. @default `<graph key>:<node id>` */
  key?: string;
  tags?: string[];
}

export interface ResumeOptions extends Omit<TaskGraphOptions, 'store' | 'key'> {
  /**
   * Rebuilds the graph: add the same nodes with the same ids and dependencies as the
   * code that started it (usually the same function). Args functions are called again
   * for nodes that had not been launched, with their parents' stored results.
   */
  define(graph: TaskGraph): void;
  /**
   * Launch again the nodes left `pending` or `running` by the orchestrator that died.
   * Right for backends that lived in that process (in-process, threads, processes);
   * wrong for a durable queue, whose workers still hold them.
   * @default !backend.capabilities.durable
   */
  relaunchUnfinished?: boolean;
}

/** Every option name of `new TaskGraph`, `add` and `TaskGraph.resume`: anything else is refused. */
export const GRAPH_OPTIONS = optionNames<TaskGraphOptions>({
  store: true,
  backend: true,
  key: true,
  failurePolicy: true,
  ttl: true,
  codec: true,
  middleware: true,
  meta: true,
  logger: true,
  clock: true,
});
export const NODE_OPTIONS = optionNames<NodeOptions>({
  id: true,
  dependsOn: true,
  failurePolicy: true,
  retry: true,
  timeout: true,
  priority: true,
  key: true,
  tags: true,
});
export const RESUME_OPTIONS: ReadonlySet<string> = new Set([
  ...[...GRAPH_OPTIONS].filter((name) => name !== 'store' && name !== 'key'),
  ...optionNames<Omit<ResumeOptions, keyof TaskGraphOptions>>({ define: true, relaunchUnfinished: true }),
]);
