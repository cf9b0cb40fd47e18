import { type Clock, systemClock } from './clock';
import type { ComputationBackend, Invocation } from './contracts/backend';
import type { Codec } from './contracts/codec';
import { composeMiddleware, type LaunchContext, type Middleware } from './contracts/middleware';
import type { ComputationStore } from './contracts/store';
import { KeyExistsError } from './errors/key-exists-error';
import { validateInput } from './internal/validate-input';
import { assertValidKey, generateKey } from './keys';
import { failComputation } from './lifecycle/fail-computation';
import { NO_STORE_RETRY } from './lifecycle/store-retry';
import type { ComputationRecord } from './record';
import type { RetryPolicy } from './retry-policy';
import type { TaskDefinition, TaskLogger } from './task';

/** Options of one launch. */
export interface LaunchOptions {
  /** Your own key (idempotency): launching twice with one key gives one computation. */
  key?: string;
  /** Higher runs first. @default the task's, else 0 */
  priority?: number;
  /** Milliseconds to wait before the computation may start. */
  delay?: number;
  tags?: string[];
  meta?: Record<string, unknown>;
  /** Key of the computation or graph that launched this one. */
  parent?: string;
  /** Seconds the record is kept after it ends. */
  ttl?: number;
}

/** Everything a launch needs, resolved from the task, the caller's options and the defaults. */
export interface LaunchSettings {
  store: ComputationStore;
  backend: ComputationBackend;
  codec: Codec;
  retry: RetryPolicy;
  timeout?: number;
  ttl?: number;
  middleware: readonly Middleware[];
  clock?: Clock;
  logger?: TaskLogger;
}

/** The result of a launch: the key, and whether it joined an existing computation. */
export interface LaunchResult {
  key: string;
  existing: boolean;
}

/**
 * Launches one computation: validates the input (nothing is written when it is
 * invalid), runs launch-side middleware, creates the `pending` record, then hands the
 * invocation to the backend. When the backend refuses, the record is marked `failed`
 * with the reason and the error is rethrown: nothing is left pending forever.
 */
export async function launchComputation(
  task: TaskDefinition,
  args: unknown,
  settings: LaunchSettings,
  options: LaunchOptions = {},
): Promise<LaunchResult> {
  const prepared = prepareLaunch(task, args, settings, options);
  let existing = false;
  await composeMiddleware(settings.middleware, 'launch', prepared.context, async () => {
    try {
      await settings.store.create(withMeta(prepared.record, prepared.context.meta));
    } catch (error) {
      if (options.key !== undefined && KeyExistsError.isInstance(error)) {
        existing = true;
        return;
      }
      throw error;
    }
    try {
      await settings.backend.launch(prepared.invocation);
    } catch (error) {
      await markLaunchFailed(settings, prepared.record.key, error);
      throw error;
    }
  });
  return { key: prepared.record.key, existing };
}

/** Records `launchMany` creates at once, one by one. */
const LAUNCH_MANY_CONCURRENCY = 64;
/** Records per `createMany` call, and such calls at once. */
const CREATE_MANY_CHUNK = 500;
const CREATE_MANY_CONCURRENCY = 2;

/**
 * Launches many computations of one task: every record is created, then the backend
 * takes them in one batch (`launchMany`) where it can.
 */
export async function launchMany(
  task: TaskDefinition,
  argsList: readonly unknown[],
  settings: LaunchSettings,
  options: LaunchOptions = {},
): Promise<LaunchResult[]> {
  if (options.key !== undefined)
    throw new TypeError('[au] launchMany takes no `key`: each computation gets its own');
  const prepared = argsList.map((args) => prepareLaunch(task, args, settings, options));
  const created: (Invocation | undefined)[] = new Array(prepared.length);
  /** Keys whose create was sent: a create that failed may still have been written (a lost reply). */
  const sent: string[] = [];
  let failure: { error: unknown } | undefined;
  // Without launch middleware a store's createMany takes the records in chunks (one
  // round trip each); otherwise each record is created inside its own middleware chain,
  // LAUNCH_MANY_CONCURRENCY at a time, since one after the other costs a round trip each.
  const store = settings.store;
  const batched = store.createMany !== undefined && !settings.middleware.some((item) => item.launch);
  const step = batched ? CREATE_MANY_CHUNK : 1;
  const concurrency = batched ? CREATE_MANY_CONCURRENCY : LAUNCH_MANY_CONCURRENCY;
  let next = 0;
  const createNext = async (): Promise<void> => {
    while (failure === undefined && next < prepared.length) {
      const first = next;
      next = Math.min(prepared.length, next + step);
      const items = prepared.slice(first, next);
      for (const item of items) sent.push(item.record.key);
      try {
        if (batched) {
          await store.createMany!(items.map((item) => withMeta(item.record, item.context.meta)));
          for (let index = 0; index < items.length; index++)
            created[first + index] = items[index]!.invocation;
        } else {
          const item = items[0]!;
          await composeMiddleware(settings.middleware, 'launch', item.context, async () => {
            await store.create(withMeta(item.record, item.context.meta));
            created[first] = item.invocation;
          });
        }
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const units = Math.ceil(prepared.length / step);
  await Promise.all(Array.from({ length: Math.min(concurrency, units) }, createNext));
  if (failure !== undefined) {
    // All or nothing: the records made before the failure would never be launched. Those
    // whose create failed are marked too (a no-op where nothing was written), since a
    // store may have written a batch whose reply was lost.
    const { error } = failure;
    await Promise.all(sent.map((key) => markLaunchFailed(settings, key, error)));
    throw error;
  }
  const results: LaunchResult[] = prepared.map((item) => ({ key: item.record.key, existing: false }));
  const invocations = created.filter((invocation): invocation is Invocation => invocation !== undefined);
  try {
    if (settings.backend.launchMany !== undefined) await settings.backend.launchMany(invocations);
    else for (const invocation of invocations) await settings.backend.launch(invocation);
  } catch (error) {
    await Promise.all(invocations.map((invocation) => markLaunchFailed(settings, invocation.key, error)));
    throw error;
  }
  return results;
}

function prepareLaunch(
  task: TaskDefinition,
  args: unknown,
  settings: LaunchSettings,
  options: LaunchOptions,
) {
  validateInput(task.name, task.input, args);
  const clock = settings.clock ?? systemClock;
  const now = clock.now();
  const key = options.key ?? generateKey(now);
  assertValidKey(key);
  if (options.delay !== undefined && !(options.delay >= 0)) {
    throw new TypeError(`[au] launch of "${task.name}": delay must be ≥ 0 ms, got ${options.delay}`);
  }
  const priority = options.priority ?? task.priority ?? 0;
  const ttl = options.ttl ?? settings.ttl;
  const runAt = options.delay ? now + options.delay : undefined;
  const meta = { ...options.meta };
  const record: ComputationRecord = {
    key,
    task: task.name,
    status: 'pending',
    args: settings.codec.encode(args),
    attempt: 0,
    maxAttempts: settings.retry.attempts,
    priority,
    createdAt: now,
  };
  if (options.tags !== undefined) record.tags = options.tags;
  if (ttl !== undefined) record.ttl = ttl;
  if (runAt !== undefined) record.runAt = runAt;
  if (options.parent !== undefined) record.parent = options.parent;
  const invocation: Invocation = {
    key,
    task,
    args,
    store: settings.store,
    priority,
    retry: settings.retry,
    codec: settings.codec,
    middleware: settings.middleware,
  };
  if (runAt !== undefined) invocation.runAt = runAt;
  if (settings.timeout !== undefined) invocation.timeout = settings.timeout;
  if (ttl !== undefined) invocation.ttl = ttl;
  if (settings.logger !== undefined) invocation.logger = settings.logger;
  const context: LaunchContext = { key, task: task.name, args, priority, meta };
  return { record, invocation, context };
}

/** A launch the backend refused can never start: `pending → failed`, unless a cancel or a worker got there first. */
async function markLaunchFailed(settings: LaunchSettings, key: string, error: unknown): Promise<void> {
  await failComputation(
    settings.store,
    key,
    { error, from: 'active' },
    { retry: NO_STORE_RETRY, ...(settings.clock === undefined ? {} : { clock: settings.clock }) },
  ).catch(() => undefined);
}

/** The record with the launch middleware's `meta`, when there is any. */
function withMeta(record: ComputationRecord, meta: Record<string, unknown>): ComputationRecord {
  return Object.keys(meta).length > 0 ? { ...record, meta } : record;
}
