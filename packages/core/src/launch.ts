import { type Clock, systemClock } from './clock';
import type { ComputationBackend, Invocation, TaskRegistration } from './contracts/backend';
import type { Codec } from './contracts/codec';
import { composeMiddleware, type LaunchContext, type Middleware } from './contracts/middleware';
import type { ComputationStore } from './contracts/store';
import { KeyConflictError } from './errors/key-conflict-error';
import { KeyExistsError } from './errors/key-exists-error';
import { ValidationError } from './errors/validation-error';
import { checkDependsOn, holdUntilParentsEnd, parentsCompleted } from './flow/dependencies';
import { flowGroupsOf, flowGroupsOfRecord } from './flow/flow-limits';
import { admitLaunch } from './flow/queue-admission';
import { checkOptions, optionNames } from './internal/check-options';
import { sameValue } from './internal/same-value';
import { validateInput } from './internal/validate-input';
import { assertValidKey, generateKey } from './keys';
import { failComputation } from './lifecycle/fail-computation';
import { notifyDeadLetter } from './lifecycle/notify-dead-letter';
import { isTransientStoreError, NO_STORE_RETRY } from './lifecycle/store-retry';
import type { ComputationRecord } from './record';
import { type RetryPolicy, toRetrySpec } from './retry-policy';
import { isTerminalStatus } from './status';
import type { TaskDefinition, TaskLogger } from './task';

/** Options of one launch. */
export interface LaunchOptions {
  /**
   * Your own key (idempotency): launching again with this key and the same input joins
   * the computation (`existing: true`); with another input, or for another task, the
   * launch is refused with `KeyConflictError`.
   */
  key?: string;
  /**
   * Seconds after a keyed computation finished during which its key still joins it;
   * past them a launch with the key starts a new run (the old record is let expire).
   * @default the settings', else for as long as the record is kept (its `ttl`)
   */
  idempotencyWindow?: number;
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
  /**
   * Keys of computations (in the same store) this one waits for: it starts once they all
   * completed, and ends without running when one fails (`failed`, DependencyFailedError)
   * or is cancelled (`cancelled`). An unknown key is refused at launch (UnknownDependencyError).
   * See docs/flow-control.md.
   */
  dependsOn?: readonly string[];
}

/** Everything a launch needs, resolved from the task, the caller's options and the defaults. */
export interface LaunchSettings {
  store: ComputationStore;
  backend: ComputationBackend;
  codec: Codec;
  retry: RetryPolicy;
  timeout?: number;
  ttl?: number;
  /** Default `idempotencyWindow` of keyed launches, in seconds. */
  idempotencyWindow?: number;
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
  await prepareBackend(task, settings);
  // Unknown parents are refused before anything is written.
  const held =
    options.dependsOn !== undefined &&
    !(await parentsCompleted(settings.store, task.name, options.dependsOn));
  let existing = false;
  // A full queue refuses before anything is written (flow/queue-admission.ts).
  const release = await admitLaunch(task, settings.backend, 1);
  try {
    await composeMiddleware(settings.middleware, 'launch', prepared.context, async () => {
      const record = withMeta(prepared.record, prepared.context.meta);
      if (options.key === undefined) {
        // One write for the record and its queue entry where the backend offers it.
        if (!held && (await createAndLaunch(settings, [record], [prepared.invocation]))) return;
        await settings.store.create(record);
      } else {
        // One write while the key is free, too: a producer that dies mid-launch then
        // leaves no keyed record without its queue entry, which a caller retrying with
        // the key would join and wait on forever. A taken key or a refusal goes the
        // two-step way below, which joins, replaces or records the refusal on the key.
        if (!held && (await createAndLaunchKeyed(settings, record, prepared.invocation))) return;
        const created = await createKeyed(task, record, settings, options);
        if (created === 'joined') {
          existing = true;
          return;
        }
        if (created === 'replaced') prepared.invocation.replaces = true;
      }
      if (held) {
        holdLaunch(settings, options, [prepared.invocation]);
        return;
      }
      try {
        await settings.backend.launch(prepared.invocation);
      } catch (error) {
        await markLaunchFailed(settings, prepared.record.key, error);
        throw error;
      }
    });
  } finally {
    release();
  }
  return { key: prepared.record.key, existing };
}

/**
 * The records created and their invocations accepted in one write, where the backend
 * offers it for this store (`createAndLaunch`): true when done, false when core must
 * create and launch them itself. A write that failed the way a lost reply does (a
 * transient error) may have landed: its records are marked failed, as a refused launch's
 * are. A refusal (an unknown task, a closed backend, a taken key) wrote nothing to mark.
 */
async function createAndLaunch(
  settings: LaunchSettings,
  records: readonly ComputationRecord[],
  invocations: readonly Invocation[],
): Promise<boolean> {
  const { backend, store } = settings;
  if (backend.createAndLaunch === undefined) return false;
  try {
    return await backend.createAndLaunch(store, records, invocations);
  } catch (error) {
    if (isTransientStoreError(error))
      await Promise.all(records.map((record) => markLaunchFailed(settings, record.key, error)));
    throw error;
  }
}

/**
 * `createAndLaunch` of a keyed launch: true when done, false when core must go the
 * two-step way, which then says what happened. Nothing was written when the key is taken
 * (the two-step way joins or replaces its holder) or when the backend refused the launch
 * (a closed backend, an unknown task: it refuses `launch` again and the record is left
 * `failed`, so that the key tells why). A write that failed the way a lost reply does
 * landed whole or not at all: the two-step way then finds the record and joins it (its
 * job runs), or creates and launches it again.
 */
async function createAndLaunchKeyed(
  settings: LaunchSettings,
  record: ComputationRecord,
  invocation: Invocation,
): Promise<boolean> {
  const { backend, store } = settings;
  if (backend.createAndLaunch === undefined) return false;
  try {
    return await backend.createAndLaunch(store, [record], [invocation]);
  } catch {
    return false;
  }
}

/** Tries of a keyed create whose key holder keeps vanishing (expired or deleted) under it. */
const KEYED_CREATE_TRIES = 5;

/**
 * Creates the record of a keyed launch: `created`, `replaced` (over a finished holder),
 * or `joined` when the launch joins the computation that holds the key (same task, same
 * encoded input). A finished holder past the
 * idempotency window is let expire (a conditional write: only while it is still
 * finished), then the create is tried again, so of launchers racing for it exactly one
 * creates the new run and the others join it.
 */
async function createKeyed(
  task: TaskDefinition,
  record: ComputationRecord,
  settings: LaunchSettings,
  options: LaunchOptions,
): Promise<'created' | 'replaced' | 'joined'> {
  const { store } = settings;
  const window = options.idempotencyWindow ?? settings.idempotencyWindow;
  let replaced = false;
  for (let attempt = 1; ; attempt++) {
    try {
      await store.create(record);
      return replaced ? 'replaced' : 'created';
    } catch (error) {
      if (!KeyExistsError.isInstance(error)) throw error;
      const holder = await store.get(record.key);
      if (holder === undefined) {
        // Expired or deleted between the create and the read: the key is free again.
        if (attempt < KEYED_CREATE_TRIES) continue;
        throw error;
      }
      if (window !== undefined && windowPassed(holder, window, settings)) {
        // A second in the past, so a store comparing with its own (slightly behind) clock agrees.
        const now = Math.min(
          (settings.clock ?? systemClock).now(),
          Date.now(),
          holder.finishedAt ?? Date.now(),
        );
        await store.update(record.key, { expiresAt: now - 1000 }, { ifStatus: [holder.status] });
        replaced = true;
        if (attempt < KEYED_CREATE_TRIES) continue;
        throw error;
      }
      if (holder.task !== task.name || !sameValue(holder.args, record.args)) {
        throw new KeyConflictError({ key: record.key, task: task.name, existingTask: holder.task });
      }
      return 'joined';
    }
  }
}

/** Whether a finished record's idempotency window (seconds after it finished) is over. */
function windowPassed(holder: ComputationRecord, window: number, settings: LaunchSettings): boolean {
  if (!isTerminalStatus(holder.status)) return false;
  const finishedAt = holder.finishedAt ?? holder.createdAt;
  return (settings.clock ?? systemClock).now() >= finishedAt + window * 1000;
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
  if (options.key !== undefined || options.idempotencyWindow !== undefined)
    throw new TypeError(
      '[au] launchMany takes no `key` or `idempotencyWindow`: each computation gets its own key',
    );
  const prepared = argsList.map((args) => prepareLaunch(task, args, settings, options));
  await prepareBackend(task, settings);
  const held =
    options.dependsOn !== undefined &&
    !(await parentsCompleted(settings.store, task.name, options.dependsOn));
  const release = await admitLaunch(task, settings.backend, prepared.length);
  try {
    return await launchPrepared(prepared, settings, held ? options : undefined);
  } finally {
    release();
  }
}

/** `launchMany` once admitted: creates the records, then hands them to the backend. */
async function launchPrepared(
  prepared: readonly ReturnType<typeof prepareLaunch>[],
  settings: LaunchSettings,
  /** The launch's options when it waits for parents that have not completed yet. */
  heldFor: LaunchOptions | undefined,
): Promise<LaunchResult[]> {
  const created: (Invocation | undefined)[] = new Array(prepared.length);
  /** Keys whose create was sent: a create that failed may still have been written (a lost reply). */
  const sent: string[] = [];
  let failure: { error: unknown } | undefined;
  // Without launch middleware a store's createMany takes the records in chunks (one
  // round trip each); otherwise each record is created inside its own middleware chain,
  // LAUNCH_MANY_CONCURRENCY at a time, since one after the other costs a round trip each.
  const store = settings.store;
  const noLaunchMiddleware = !settings.middleware.some((item) => item.launch);
  if (noLaunchMiddleware && heldFor === undefined) {
    const records = prepared.map((item) => withMeta(item.record, item.context.meta));
    const invocations = prepared.map((item) => item.invocation);
    if (await createAndLaunch(settings, records, invocations))
      return prepared.map((item) => ({ key: item.record.key, existing: false }));
  }
  const batched = store.createMany !== undefined && noLaunchMiddleware;
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
  if (heldFor !== undefined) {
    holdLaunch(settings, heldFor, invocations);
    return results;
  }
  try {
    if (settings.backend.launchMany !== undefined) await settings.backend.launchMany(invocations);
    else for (const invocation of invocations) await settings.backend.launch(invocation);
  } catch (error) {
    await Promise.all(invocations.map((invocation) => markLaunchFailed(settings, invocation.key, error)));
    throw error;
  }
  return results;
}

const LAUNCH_OPTIONS = optionNames<LaunchOptions>({
  key: true,
  idempotencyWindow: true,
  priority: true,
  delay: true,
  tags: true,
  meta: true,
  parent: true,
  ttl: true,
  dependsOn: true,
});

function prepareLaunch(
  task: TaskDefinition,
  args: unknown,
  settings: LaunchSettings,
  options: LaunchOptions,
) {
  checkOptions(`launch of "${task.name}"`, options, LAUNCH_OPTIONS);
  // The task receives, and the record keeps, what the schema made of the input:
  // defaults and transforms applied, unknown keys stripped.
  const input = validateInput(task.name, task.input, args);
  const clock = settings.clock ?? systemClock;
  const now = clock.now();
  const key = options.key ?? generateKey(now);
  assertValidKey(key);
  if (
    options.idempotencyWindow !== undefined &&
    !(Number.isFinite(options.idempotencyWindow) && options.idempotencyWindow >= 0)
  ) {
    throw new TypeError(
      `[au] launch of "${task.name}": idempotencyWindow must be a number of seconds ≥ 0, got ${options.idempotencyWindow}`,
    );
  }
  if (options.delay !== undefined && !(options.delay >= 0)) {
    throw new TypeError(`[au] launch of "${task.name}": delay must be ≥ 0 ms, got ${options.delay}`);
  }
  const priority = options.priority ?? task.priority ?? 0;
  const ttl = options.ttl ?? settings.ttl;
  const runAt = options.delay ? now + options.delay : undefined;
  // Computed before anything is written: a key function that throws refuses the launch.
  const groups = flowGroupsOf(task, input);
  const meta: Record<string, unknown> = { ...options.meta, ...groups.meta };
  // Kept on the record (in `meta`, which every store keeps) so that it shows why it waits.
  if (options.dependsOn !== undefined)
    meta.dependsOn = [...checkDependsOn(task.name, key, options.dependsOn)];
  const encoded = encodeInput(task.name, settings.codec, input);
  const record: ComputationRecord = {
    key,
    task: task.name,
    status: 'pending',
    args: encoded,
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
    task: task.name,
    args: encoded,
    priority,
    retry: toRetrySpec(settings.retry),
  };
  if (runAt !== undefined) invocation.runAt = runAt;
  if (settings.timeout !== undefined) invocation.timeout = settings.timeout;
  if (ttl !== undefined) invocation.ttl = ttl;
  if (groups.concurrency !== undefined) invocation.concurrency = groups.concurrency;
  if (groups.rateLimit !== undefined) invocation.rateLimit = groups.rateLimit;
  const context: LaunchContext = { key, task: task.name, args: input, priority, meta };
  return { record, invocation, context };
}

/** The input encoded by the codec; a value it cannot encode is the caller's error, not a crash. */
export function encodeInput(task: string, codec: Codec, input: unknown): unknown {
  try {
    return codec.encode(input);
  } catch (error) {
    throw new ValidationError({
      task,
      issues: [
        {
          path: [],
          message: `cannot be encoded: ${(error as Error)?.message ?? String(error)}`,
          code: 'encode',
        },
      ],
      cause: error,
    });
  }
}

/**
 * Binds the backend to the launch's store and registers how the task runs here, once
 * per backend, store and settings (a distributed backend's bind is a round trip).
 */
export async function prepareBackend(task: TaskDefinition, settings: LaunchSettings): Promise<void> {
  const { backend, store } = settings;
  let stores = boundStores.get(backend);
  if (stores === undefined) {
    stores = new WeakSet();
    boundStores.set(backend, stores);
  }
  if (!stores.has(store)) {
    await backend.bind?.(store);
    stores.add(store);
  }
  if (backend.register !== undefined) {
    const registration: TaskRegistration = {
      task,
      codec: settings.codec,
      middleware: settings.middleware,
      retry: settings.retry,
    };
    if (settings.logger !== undefined) registration.logger = settings.logger;
    backend.register(registration);
  }
}

const boundStores = new WeakMap<ComputationBackend, WeakSet<ComputationStore>>();

/**
 * Takes up again the hold of a dependent whose launching process stopped while it
 * waited: `record` is `pending` with `meta.dependsOn`. It is handed to the backend once its
 * parents completed, or ended as at launch. Handing over a dependent a queue already
 * holds is harmless (BullMQ and the Postgres queue enqueue a key once; a second run of an
 * in-process one finds its record claimed), so callers may resume every pending dependent.
 * Returns false when the record is not such a dependent.
 */
export async function resumeHeldLaunch(
  task: TaskDefinition,
  record: ComputationRecord,
  settings: LaunchSettings,
): Promise<boolean> {
  const dependsOn = record.meta?.dependsOn;
  if (record.status !== 'pending' || !Array.isArray(dependsOn) || dependsOn.length === 0) return false;
  await prepareBackend(task, settings);
  const invocation: Invocation = {
    key: record.key,
    task: record.task,
    args: record.args,
    priority: record.priority ?? 0,
    retry: toRetrySpec(settings.retry),
    ...flowGroupsOfRecord(task, record),
  };
  if (record.runAt !== undefined) invocation.runAt = record.runAt;
  if (settings.timeout !== undefined) invocation.timeout = settings.timeout;
  if (record.ttl !== undefined) invocation.ttl = record.ttl;
  holdLaunch(
    settings,
    { dependsOn: dependsOn as string[], ...(record.ttl === undefined ? {} : { ttl: record.ttl }) },
    [invocation],
  );
  return true;
}

/** Holds `invocations` back from the backend until the launch's parents end (flow/dependencies.ts). */
export function holdLaunch(
  settings: LaunchSettings,
  options: LaunchOptions,
  invocations: readonly Invocation[],
): void {
  holdUntilParentsEnd({
    store: settings.store,
    keys: invocations.map((invocation) => invocation.key),
    parents: options.dependsOn!,
    ttl: options.ttl ?? settings.ttl,
    ...(settings.clock === undefined ? {} : { clock: settings.clock }),
    ...(settings.logger === undefined ? {} : { logger: settings.logger }),
    start: async (keys) => {
      const starting = invocations.filter((invocation) => keys.includes(invocation.key));
      try {
        if (settings.backend.launchMany !== undefined) await settings.backend.launchMany(starting);
        else for (const invocation of starting) await settings.backend.launch(invocation);
      } catch (error) {
        await Promise.all(starting.map((invocation) => markLaunchFailed(settings, invocation.key, error)));
      }
    },
  });
}

/** A launch the backend refused can never start: `pending → failed`, unless a cancel or a worker got there first. */
export async function markLaunchFailed(settings: LaunchSettings, key: string, error: unknown): Promise<void> {
  const record = await failComputation(
    settings.store,
    key,
    { error, from: 'active' },
    { retry: NO_STORE_RETRY, ...(settings.clock === undefined ? {} : { clock: settings.clock }) },
  ).catch(() => undefined);
  // It can never start: a dead letter, announced where it was launched.
  if (record !== undefined) await notifyDeadLetter(settings.middleware, record, settings.logger);
}

/** The record with the launch middleware's `meta`, when there is any. */
function withMeta(record: ComputationRecord, meta: Record<string, unknown>): ComputationRecord {
  return Object.keys(meta).length > 0 ? { ...record, meta } : record;
}
