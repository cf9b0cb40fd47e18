import { computeBackoff } from './backoff';
import { type Clock, sleep, systemClock } from './clock';
import type { Codec } from './contracts/codec';
import { composeMiddleware, type Middleware } from './contracts/middleware';
import type { ComputationStore } from './contracts/store';
import { CancelledError } from './errors/cancelled-error';
import { ClosedError } from './errors/closed-error';
import { serializeError } from './errors/serialize-error';
import { TimeoutError } from './errors/timeout-error';
import { ValidationError } from './errors/validation-error';
import { AbortSource } from './internal/abort-source';
import { AttemptContext } from './internal/attempt-context';
import { isPromiseLike } from './internal/is-promise-like';
import type { UnwrittenReports } from './internal/progress-writer';
import { claimComputation, isClaimable } from './lifecycle/claim';
import { completeComputation } from './lifecycle/complete-computation';
import type { LifecycleOptions } from './lifecycle/ending';
import { failComputation } from './lifecycle/fail-computation';
import { notifyDeadLetter } from './lifecycle/notify-dead-letter';
import { recordCancelled } from './lifecycle/record-cancelled';
import { requeueComputation } from './lifecycle/requeue-computation';
import type { StoreRetryOptions } from './lifecycle/store-retry';
import { silentLogger } from './logger';
import type { ComputationPatch, ComputationRecord } from './record';
import type { RetryPolicy } from './retry-policy';
import type { InputSchema, TaskContext, TaskLogger } from './task';

/** What the executor runs: a task definition fits, and so does a proxy that runs it elsewhere. */
export interface Runnable {
  readonly name: string;
  readonly input?: InputSchema<unknown>;
  run(input: unknown, context: TaskContext): unknown;
}

export interface ExecuteOptions {
  store: ComputationStore;
  key: string;
  task: Runnable;
  /** Decoded arguments when the caller has them; otherwise the record's are decoded. */
  args?: { value: unknown };
  /** @default jsonCodec */
  codec: Codec;
  /** @default one attempt */
  retry?: RetryPolicy;
  /** Per-attempt limit in ms. */
  timeout?: number;
  /** Seconds the record lives after it ends; falls back to `record.ttl`. */
  ttl?: number;
  middleware?: readonly Middleware[];
  /** Aborts on cancel or shutdown; the reason (a `CancelledError`) is recorded. */
  signal?: AbortSignal;
  /**
   * Receives a function that aborts this execution, as `signal` would: cheaper than an
   * AbortController per computation for backends that run many small ones.
   */
  onAbortable?(abort: (reason: unknown) => void): void;
  /** @default systemClock */
  clock?: Clock;
  /** @default silentLogger */
  logger?: TaskLogger;
  /** Minimum ms between two progress writes. @default 100 */
  progressInterval?: number;
  /**
   * `inline`: wait out a retry's backoff here and run the next attempt (local backends).
   * `report`: write the record back to `pending` and return `{ status: 'retry' }` so a
   * queue can schedule the next attempt. @default 'inline'
   */
  retryMode?: 'inline' | 'report';
  /**
   * Also claim a record left `running` (a re-delivery after its worker died).
   * @default false
   */
  reclaimRunning?: boolean;
  /** Runs when the attempt starts (the record is `running`), e.g. to emit an event. */
  onStart?(record: ComputationRecord): void;
  /**
   * How long the claim and the final write keep trying through a store outage before
   * the executor throws `StoreUnavailableError`. @default 30 s of bounded backoff
   */
  storeRetry?: StoreRetryOptions;
}

/** How one execution ended, as seen by the executor. */
export type ExecutionOutcome =
  | { status: 'completed'; record: ComputationRecord }
  | { status: 'failed'; record: ComputationRecord | undefined; error: unknown }
  | { status: 'cancelled'; record: ComputationRecord | undefined }
  | { status: 'retry'; record: ComputationRecord; delay: number; error: unknown }
  | { status: 'skipped'; record: ComputationRecord | undefined };

function loggerOf(options: ExecuteOptions): { logger?: TaskLogger } {
  return options.logger === undefined ? {} : { logger: options.logger };
}

/**
 * The one executor every backend uses. For one computation:
 * 1. claims it (`pending → running`, atomically; `attempt` counted) or skips it when
 *    another worker, a cancel or an earlier run got there first;
 * 2. runs the task inside the run-side middleware with an AbortSignal and the timeout;
 * 3. writes `completed` or `failed` only if the record is still `running`, so a cancel
 *    that won is never overwritten;
 * 4. retries per the policy, inline or by reporting back to a queue.
 * Every status write is one of core's lifecycle operations and keeps trying through a
 * store outage (`storeRetry`); the executor throws only when the store stays down
 * longer than that (`StoreUnavailableError`), and the backend then gives the work back.
 */
export function executeComputation(options: ExecuteOptions): Promise<ExecutionOutcome> {
  return options.retryMode === 'report' ? executeAttempt(options) : executeInline(options);
}

/** `executeComputation` with `retryMode: 'inline'`: attempts and backoffs, here. */
async function executeInline(options: ExecuteOptions): Promise<ExecutionOutcome> {
  const abort = abortSourceFor(options);
  try {
    for (;;) {
      const outcome = await runAttempt(options, abort.source);
      if (outcome.status !== 'retry') return outcome;
      try {
        await Promise.race([
          sleep(outcome.delay, { clock: options.clock ?? systemClock }),
          abort.source.promise,
        ]);
      } catch {
        const waiting = outcome.record;
        return cancelOnAbort(
          options,
          abort.source.reason,
          {},
          (current) =>
            current.status === 'pending' &&
            current.attempt === waiting.attempt &&
            current.runAt === waiting.runAt,
        );
      }
    }
  } finally {
    abort.release();
  }
}

/** One attempt: claim, run, record. See `executeComputation`. */
export function executeAttempt(options: ExecuteOptions): Promise<ExecutionOutcome> {
  const abort = abortSourceFor(options);
  // No extra async frame around the attempt when there is nothing to release after it.
  return abort.release === noop
    ? runAttempt(options, abort.source)
    : runAttempt(options, abort.source).finally(abort.release);
}

function abortSourceFor(options: ExecuteOptions): { source: AbortSource; release: () => void } {
  const source = new AbortSource();
  options.onAbortable?.((reason) => source.abort(reason));
  const release = options.signal === undefined ? noop : source.follow(options.signal);
  return { source, release };
}

function noop(): void {}

const EMPTY_META: Readonly<Record<string, unknown>> = Object.freeze({});

async function runAttempt(options: ExecuteOptions, abort: AbortSource): Promise<ExecutionOutcome> {
  const { store, key, task, codec } = options;
  const clock = options.clock ?? systemClock;
  if (abort.aborted) {
    // Cancelled before the claim: record it, unless there is nothing left to run.
    const current = await store.get(key);
    if (current === undefined || !isClaimable(current, options.reclaimRunning)) {
      return { status: 'skipped', record: current };
    }
    return cancelOnAbort(options, abort.reason);
  }
  const startedAt = clock.now();
  const logger = options.logger ?? silentLogger;
  // One for every lifecycle write of this attempt.
  const lifecycle: LifecycleOptions =
    options.storeRetry === undefined ? { clock, logger } : { retry: options.storeRetry, clock, logger };
  const claim = await claimComputation(
    store,
    key,
    { now: startedAt, reclaimRunning: options.reclaimRunning === true },
    lifecycle,
  );
  if (!claim.claimed) {
    if (claim.record === undefined) {
      // Deleted or expired before its turn: nothing to run and nothing to write.
      options.logger?.warn(
        { key, task: task.name },
        `[au] computation "${key}" has no record (deleted or expired): its work is dropped`,
      );
    }
    return { status: 'skipped', record: claim.record };
  }
  const running = claim.record;
  if (abort.aborted) return cancelOnAbort(options, abort.reason, {}, ownsAttemptAt(startedAt));
  const attempt = running.attempt;
  options.onStart?.(running);

  // A timeout aborts this attempt only; the outer source (cancel, shutdown) aborts it too.
  let attemptAbort = abort;
  let timer: unknown;
  if (options.timeout !== undefined) {
    const local = new AbortSource();
    attemptAbort = local;
    if (abort.aborted) local.abort(abort.reason);
    else abort.promise.catch((reason: unknown) => local.abort(reason));
    const timeout = options.timeout;
    timer = clock.setTimeout(
      () => local.abort(new TimeoutError({ timeout, what: `task "${task.name}" (computation "${key}")` })),
      timeout,
    );
  }
  const context = new AttemptContext(
    key,
    task.name,
    attempt,
    running.createdAt,
    startedAt,
    running.meta ?? EMPTY_META,
    {
      store,
      clock,
      logger,
      progressInterval: options.progressInterval ?? 100,
      abort: attemptAbort,
      storedLogs: running.logs,
    },
  );

  let result: unknown;
  let failure: { error: unknown } | undefined;
  try {
    // The record holds the input as the launch parsed it (defaults, transforms applied):
    // parsing it again here would apply a transform twice.
    const input = options.args !== undefined ? options.args.value : codec.decode(running.args);
    context.args = input;
    const middleware = options.middleware;
    const work =
      middleware !== undefined && hasRunHooks(middleware)
        ? composeMiddleware(middleware, 'run', context, async () => task.run(input, context))
        : task.run(input, context);
    // A task that ignores its signal may run on; its result is no longer awaited. A result
    // returned synchronously needs no race: nothing could abort the task meanwhile.
    result = isPromiseLike(work) ? await Promise.race([work, attemptAbort.promise]) : work;
  } catch (error) {
    failure = { error };
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }

  const flushing = context.flush();
  const unwritten = isPromiseLike(flushing) ? await flushing : flushing;
  const finishedAt = clock.now();

  const progressField = unwritten;
  const ttl = options.ttl ?? running.ttl ?? null;

  if (failure === undefined) {
    let value: unknown;
    try {
      value = codec.encode(result);
    } catch (error) {
      failure = { error };
    }
    if (failure === undefined) {
      const record = await completeComputation(
        store,
        key,
        { value, finishedAt, ttl, progress: unwritten.progress, logs: unwritten.logs },
        lifecycle,
      );
      if (record !== undefined) return { status: 'completed', record };
      return lostRace(store, key);
    }
  }

  const error = failure.error;
  if (attemptAbort.aborted && !TimeoutError.isInstance(attemptAbort.reason)) {
    return cancelOnAbort(options, attemptAbort.reason, reportsPatch(unwritten), ownsAttemptAt(startedAt));
  }
  const policy = options.retry ?? { attempts: running.maxAttempts };
  const maxAttempts = Math.max(running.maxAttempts, 1);
  if (attempt < maxAttempts && isRetryable(error, attempt, policy)) {
    const delay = computeBackoff(policy, attempt);
    // The attempt that ends goes into the history in the same write (no extra round trip).
    const history = [
      ...(running.history ?? []),
      { attempt, status: 'failed' as const, error: serializeError(error), startedAt, finishedAt },
    ];
    const record = await requeueComputation(
      store,
      key,
      { error, runAt: finishedAt + delay, history, ...progressField },
      lifecycle,
    );
    if (record === undefined) return lostRace(store, key);
    return { status: 'retry', record, delay, error };
  }
  const record = await failComputation(store, key, { error, finishedAt, ttl, ...progressField }, lifecycle);
  if (record === undefined) return lostRace(store, key);
  await notifyDeadLetter(options.middleware ?? [], record, logger);
  return { status: 'failed', record, error };
}

/** What the attempt reported and did not write yet, as a patch. */
function reportsPatch(unwritten: UnwrittenReports): ComputationPatch {
  const patch: ComputationPatch = {};
  if (unwritten.progress !== undefined) patch.progress = unwritten.progress.value;
  if (unwritten.logs !== undefined) patch.logs = unwritten.logs;
  return patch;
}

/** Whether the record is still in the attempt that started at `startedAt`. */
function ownsAttemptAt(startedAt: number): (current: ComputationRecord) => boolean {
  return (current) => current.status === 'running' && current.startedAt === startedAt;
}

function hasRunHooks(middleware: readonly Middleware[]): boolean {
  for (const item of middleware) if (item.run !== undefined) return true;
  return false;
}

/** The record left `running` under us: a cancel won, or the record is gone (expired, deleted). */
async function lostRace(store: ComputationStore, key: string): Promise<ExecutionOutcome> {
  const record = await store.get(key);
  return record?.status === 'cancelled' ? { status: 'cancelled', record } : { status: 'skipped', record };
}

function isRetryable(error: unknown, attempt: number, policy: RetryPolicy): boolean {
  if (ValidationError.isInstance(error) || CancelledError.isInstance(error)) return false;
  return policy.retryOn === undefined ? true : policy.retryOn(error, attempt);
}

/** Records a cancel that came through the signal (a backend's `cancel`, or shutdown). */
async function cancelOnAbort(
  options: ExecuteOptions,
  reason: unknown,
  extra: ComputationPatch = {},
  owns?: (current: ComputationRecord) => boolean,
): Promise<ExecutionOutcome> {
  const clock = options.clock ?? systemClock;
  const cancel = CancelledError.isInstance(reason)
    ? reason
    : new CancelledError({
        key: options.key,
        reason: ClosedError.isInstance(reason)
          ? 'the backend closed'
          : String((reason as Error)?.message ?? reason),
      });
  const finishedAt = clock.now();
  const current = await options.store.get(options.key);
  // The record moved on without this execution (cancelled, then re-opened by a retry):
  // this late cancel must not end the new attempt.
  if (owns !== undefined && (current === undefined || !owns(current))) {
    return { status: current?.status === 'cancelled' ? 'cancelled' : 'skipped', record: current };
  }
  const record = await recordCancelled({
    store: options.store,
    key: options.key,
    error: cancel,
    ttl: options.ttl ?? current?.ttl,
    finishedAt,
    clock,
    patch: extra,
    retry: options.storeRetry ?? {},
    ...loggerOf(options),
  });
  return { status: 'cancelled', record: record ?? (await options.store.get(options.key)) };
}
