import type { Clock } from './clock';
import { jsonCodec } from './codecs/json-codec';
import type { ComputationBackend } from './contracts/backend';
import type { Codec } from './contracts/codec';
import type { Middleware } from './contracts/middleware';
import type { ComputationStore } from './contracts/store';
import { getDefaults } from './defaults';
import { ComputationHandle } from './handle';
import { checkOptions, optionNames } from './internal/check-options';
import { assertValidKey } from './keys';
import { type LaunchOptions, type LaunchSettings, launchComputation, launchMany } from './launch';
import { checkRetryPolicy, NO_RETRY, type RetryPolicy } from './retry-policy';
import { defineTask, isTaskDefinition, type TaskDefinition, type TaskLogger } from './task';

/** Options shared by every computation of one `asyncCompute`. */
export interface AsyncComputeOptions {
  /** Where records live. @default the current defaults' store (see `setDefaults`) */
  store?: ComputationStore;
  /** Where the work runs. @default the current defaults' backend */
  backend?: ComputationBackend;
  /** Seconds a finished record is kept. @default the task's, else kept until deleted */
  ttl?: number;
  /**
   * Seconds after a keyed computation finished during which a launch with its key joins
   * it; past them the key runs again. @default as long as the record is kept
   */
  idempotencyWindow?: number;
  /** Launch- and run-side middleware, outermost first. */
  middleware?: readonly Middleware[];
  /** @default the task's, else one attempt */
  retry?: RetryPolicy;
  /** Per-attempt limit in ms. @default the task's, else none */
  timeout?: number;
  /** @default the task's, else jsonCodec */
  codec?: Codec;
  /** Name for an inline function's task. @default the function's name */
  name?: string;
  logger?: TaskLogger;
  clock?: Clock;
}

/** A function turned into an asynchronous computation. Calling it launches one. */
export interface AsyncComputation<Args extends unknown[], Result> {
  (...args: Args): Promise<ComputationHandle<Result>>;
  /** The task behind it (an inline function gets one made for it). */
  readonly task: TaskDefinition;
  /** Launches with per-launch options (key, priority, delay, tags, meta, ttl). */
  launch(args: Args, options?: LaunchOptions): Promise<ComputationHandle<Result>>;
  /** Launches one computation per argument list, in one batch where the backend allows. */
  map(argsList: readonly Args[], options?: LaunchOptions): Promise<ComputationHandle<Result>[]>;
  /** A handle to an existing computation of this store, by key (e.g. in another request). */
  handle(key: string): ComputationHandle<Result>;
  /** Removes expired records from the store; resolves with how many. */
  cleanupExpired(): Promise<number>;
  readonly store: ComputationStore;
  readonly backend: ComputationBackend;
}

let inlineCounter = 0;

const ASYNC_COMPUTE_OPTIONS = optionNames<AsyncComputeOptions>({
  store: true,
  backend: true,
  ttl: true,
  idempotencyWindow: true,
  middleware: true,
  retry: true,
  timeout: true,
  codec: true,
  name: true,
  logger: true,
  clock: true,
});

/**
 * Turns a function or a task into an asynchronous computation:
 * `const double = asyncCompute((x: number) => x * 2); const h = await double(21); await h.result()`.
 * An inline function runs only on backends that run inline functions (in-process,
 * SyncTestBackend); threads, processes and queues need a task from `defineTask`.
 */
export function asyncCompute<Input, Result>(
  task: TaskDefinition<Input, Result>,
  options?: AsyncComputeOptions,
): AsyncComputation<[input: Input], Result>;
export function asyncCompute<Args extends unknown[], Result>(
  fn: (...args: Args) => Result | Promise<Result>,
  options?: AsyncComputeOptions,
): AsyncComputation<Args, Awaited<Result>>;
export function asyncCompute(
  target: TaskDefinition | ((...args: unknown[]) => unknown),
  options: AsyncComputeOptions = {},
): AsyncComputation<unknown[], unknown> {
  const isTask = isTaskDefinition(target);
  if (!isTask && typeof target !== 'function') {
    throw new TypeError('[au] asyncCompute takes a function or a task made by defineTask');
  }
  checkOptions('asyncCompute', options, ASYNC_COMPUTE_OPTIONS);
  if (options.retry !== undefined) checkRetryPolicy('asyncCompute', options.retry);
  const task: TaskDefinition = isTask
    ? target
    : defineTask({
        name: options.name ?? inlineName(target),
        run: (args: unknown) => target(...(args as unknown[])),
      });
  const toArgs = (args: unknown[]): unknown => (isTask ? args[0] : args);
  let settings: LaunchSettings | undefined;
  // Defaults are looked up at the first launch, so `withDefaults` scopes apply.
  const resolve = (): LaunchSettings => {
    if (settings !== undefined) return settings;
    const defaults = getDefaults();
    const resolved: LaunchSettings = {
      store: options.store ?? defaults.store,
      backend: options.backend ?? defaults.backend,
      codec: options.codec ?? task.codec ?? jsonCodec,
      retry: options.retry ?? task.retry ?? NO_RETRY,
      middleware: options.middleware ?? [],
    };
    const timeout = options.timeout ?? task.timeout;
    if (timeout !== undefined) resolved.timeout = timeout;
    const ttl = options.ttl ?? task.ttl;
    if (ttl !== undefined) resolved.ttl = ttl;
    if (options.idempotencyWindow !== undefined) resolved.idempotencyWindow = options.idempotencyWindow;
    const clock = options.clock ?? defaults.clock;
    if (clock !== undefined) resolved.clock = clock;
    if (options.logger !== undefined) resolved.logger = options.logger;
    if (options.store !== undefined && options.backend !== undefined) settings = resolved;
    return resolved;
  };
  const handleFor = (key: string, current: LaunchSettings) =>
    new ComputationHandle(key, {
      store: current.store,
      backend: current.backend,
      codec: current.codec,
      ...(current.clock === undefined ? {} : { clock: current.clock }),
      ...(current.logger === undefined ? {} : { logger: current.logger }),
    });

  const launch = async (args: unknown[], launchOptions?: LaunchOptions) => {
    if (!Array.isArray(args)) {
      throw new TypeError(
        `[au] ${task.name}.launch takes the arguments as an array: launch([input], options), got ${args === null ? 'null' : typeof args}`,
      );
    }
    const current = resolve();
    const { key } = await launchComputation(task, toArgs(args), current, launchOptions);
    return handleFor(key, current);
  };
  const computation = ((...args: unknown[]) => launch(args)) as AsyncComputation<unknown[], unknown>;
  Object.defineProperties(computation, {
    task: { value: task, enumerable: true },
    store: { get: () => resolve().store, enumerable: true },
    backend: { get: () => resolve().backend, enumerable: true },
  });
  Object.assign(computation, {
    launch,
    async map(argsList: readonly unknown[][], launchOptions?: LaunchOptions) {
      if (!Array.isArray(argsList) || !argsList.every((args) => Array.isArray(args))) {
        throw new TypeError(
          `[au] ${task.name}.map takes a list of argument arrays: map([[a1], [a2]], options)`,
        );
      }
      const current = resolve();
      const results = await launchMany(task, argsList.map(toArgs), current, launchOptions);
      return results.map(({ key }) => handleFor(key, current));
    },
    handle(key: string) {
      assertValidKey(key);
      return handleFor(key, resolve());
    },
    cleanupExpired() {
      return resolve().store.cleanupExpired();
    },
  });
  return computation;
}

function inlineName(fn: (...args: unknown[]) => unknown): string {
  inlineCounter += 1;
  const base = fn.name && /^[A-Za-z0-9_.:-]{1,80}$/.test(fn.name) ? fn.name : 'anonymous';
  return `inline:${base}:${inlineCounter}`;
}
