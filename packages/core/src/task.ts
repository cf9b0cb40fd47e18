import type { Codec } from './contracts/codec';
import { checkMaxQueued } from './flow/check-max-queued';
import {
  type ConcurrencyLimit,
  checkConcurrencyLimit,
  checkRateLimit,
  type RateLimit,
} from './flow/flow-limits';
import { checkOptions, optionNames } from './internal/check-options';
import { checkRetryPolicy, type RetryPolicy } from './retry-policy';

/** A logger with pino's method shape; `console` fits too. */
export interface TaskLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** What a running task receives besides its input. */
export interface TaskContext {
  /** The computation's key. */
  readonly key: string;
  /** The task's name. */
  readonly task: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  /** Aborts on cancel, timeout or shutdown; `signal.reason` says which. Check it in long loops. */
  readonly signal: AbortSignal;
  /** Reports progress: any JSON-compatible value (e.g. `{ done: 3, total: 10 }`). Writes are throttled. */
  progress(value: unknown): void;
  /** A logger bound to this computation. */
  readonly log: TaskLogger;
  /** The record's `meta`, as the launch wrote it (e.g. a trace context). @default {} */
  readonly meta: Readonly<Record<string, unknown>>;
}

/**
 * Anything with `safeParse` in zod's shape: a zod 4 schema fits, and so does any
 * library that mirrors it. Core never imports zod.
 */
export interface InputSchema<T> {
  safeParse(value: unknown):
    | { success: true; data: T }
    | {
        success: false;
        error: { issues: readonly { path: readonly PropertyKey[]; message: string; code?: string }[] };
      };
}

export interface TaskOptions<Input, Result> {
  /** Unique name: how the task travels to threads, processes and other machines. */
  name: string;
  /** Validates the input at launch and again where the task runs. */
  input?: InputSchema<Input>;
  /** Retry policy for failed attempts. @default one attempt */
  retry?: RetryPolicy;
  /** Milliseconds an attempt may run before it is aborted and fails with `TimeoutError`. */
  timeout?: number;
  /** Seconds a finished record is kept. @default the caller's ttl, else kept */
  ttl?: number;
  /** How arguments and results are encoded. @default json */
  codec?: Codec;
  /** Higher runs first. @default 0 */
  priority?: number;
  /** Free text shown in docs and OpenAPI. */
  description?: string;
  /**
   * The input holds secrets: `@au/http` never sends it (`GET /tasks/{id}` omits
   * `input`), so the dashboard cannot show it. The record still stores it, for the run.
   * @default false
   */
  hideInput?: boolean;
  /**
   * Most computations of this task that may wait to start on a backend (queued, delayed,
   * backing off); a launch past it is refused with `QueueFullError` and writes nothing.
   * A whole number ≥ 1. @default no limit of its own
   */
  maxQueued?: number;
  /**
   * What the task mostly uses, for a `RoutingBackend` to send it where it runs best:
   * `'cpu'` (e.g. to processes), `'io'` (e.g. in-process), `'memory'`.
   * @default none: the routing backend's default
   */
  resources?: ResourceHint;
  /**
   * At most `limit` computations with one key (`key(input)`, default: the whole task) run
   * at once across every worker; the others wait, in priority order. A worker that dies
   * holding a slot frees it when its lease or lock expires. `{ limit: 1, key }` is a
   * per-key mutex. @default no limit beyond the backend's concurrency
   */
  concurrency?: ConcurrencyLimit<Input>;
  /**
   * At most `limit` computations with one key start per `interval` ms across every worker;
   * the others are delayed, not refused. @default no limit
   */
  rateLimit?: RateLimit<Input>;
  /** The work itself. */
  run(input: Input, context: TaskContext): Result | Promise<Result>;
}

/** What a task mostly uses; see `TaskOptions.resources`. */
export type ResourceHint = 'cpu' | 'io' | 'memory';

/** Every resource hint, in the order documentation lists them. */
export const RESOURCE_HINTS: readonly ResourceHint[] = ['cpu', 'io', 'memory'];

const taskMarker = Symbol.for('au.task');

const TASK_OPTIONS = optionNames<TaskOptions<unknown, unknown>>({
  name: true,
  input: true,
  retry: true,
  timeout: true,
  ttl: true,
  codec: true,
  priority: true,
  description: true,
  hideInput: true,
  maxQueued: true,
  resources: true,
  concurrency: true,
  rateLimit: true,
  run: true,
});

/** A task: a named function with its policies. Create it with `defineTask`. */
export interface TaskDefinition<Input = unknown, Result = unknown>
  extends Readonly<TaskOptions<Input, Result>> {
  readonly [taskMarker]: true;
}

/** Input type of a task. */
export type TaskInput<T> = T extends TaskDefinition<infer I, unknown> ? I : never;
/** Result type of a task. */
export type TaskResult<T> = T extends TaskDefinition<unknown, infer R> ? R : never;

/**
 * Defines a task. Define each task once, in a module that every process which may run
 * it imports: a task travels by name.
 */
export function defineTask<Input, Result>(
  options: TaskOptions<Input, Result>,
): TaskDefinition<Input, Awaited<Result>> {
  if (typeof options?.name !== 'string' || options.name.length === 0) {
    throw new TypeError('[au] defineTask: `name` must be a non-empty string');
  }
  checkOptions(`defineTask("${options.name}")`, options, TASK_OPTIONS);
  if (options.retry !== undefined) checkRetryPolicy(`defineTask("${options.name}")`, options.retry);
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(options.name)) {
    throw new TypeError(
      `[au] defineTask: name "${options.name}" may use only letters, digits, . _ : - (1 to 100)`,
    );
  }
  if (typeof options.run !== 'function') {
    throw new TypeError(`[au] defineTask("${options.name}"): \`run\` must be a function`);
  }
  if (options.timeout !== undefined && !(options.timeout > 0)) {
    throw new TypeError(`[au] defineTask("${options.name}"): \`timeout\` must be a positive number of ms`);
  }
  checkMaxQueued(`defineTask("${options.name}")`, options.maxQueued);
  checkConcurrencyLimit(`defineTask("${options.name}")`, options.concurrency);
  checkRateLimit(`defineTask("${options.name}")`, options.rateLimit);
  if (options.resources !== undefined && !RESOURCE_HINTS.includes(options.resources)) {
    throw new TypeError(
      `[au] defineTask("${options.name}"): \`resources\` must be one of ${RESOURCE_HINTS.map((hint) => `'${hint}'`).join(', ')}, got ${JSON.stringify(options.resources)}`,
    );
  }
  return Object.freeze({ ...options, [taskMarker]: true as const }) as unknown as TaskDefinition<
    Input,
    Awaited<Result>
  >;
}

/** True for what `defineTask` returned (across duplicated copies of core too). */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[taskMarker] === true
  );
}
