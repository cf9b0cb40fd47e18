import type { Clock } from '../clock';
import { jsonCodec } from '../codecs/json-codec';
import type { ComputationBackend } from '../contracts/backend';
import {
  DEFAULT_CATCH_UP,
  type ScheduleRepository,
  type ScheduleState,
  scheduleTag,
  tickKey,
} from '../contracts/scheduler';
import type { ComputationStore } from '../contracts/store';
import { AuError } from '../errors/au-error';
import { ClosedError } from '../errors/closed-error';
import { isUnavailableError } from '../errors/is-unavailable-error';
import { KeyConflictError } from '../errors/key-conflict-error';
import { QueueFullError } from '../errors/queue-full-error';
import { type LaunchOptions, type LaunchSettings, launchComputation } from '../launch';
import { NO_RETRY } from '../retry-policy';
import { isTerminalStatus } from '../status';
import type { TaskDefinition, TaskLogger } from '../task';
import { nextTick } from './next-tick';

/** What firing a schedule needs. */
export interface FireContext {
  store: ComputationStore;
  backend: ComputationBackend;
  repository: ScheduleRepository;
  findTask(name: string): TaskDefinition | undefined;
  clock: Clock;
  logger: TaskLogger;
  /** Stops the loop between ticks (the scheduler is closing). */
  signal?: AbortSignal;
  /**
   * How runs of a task launch (codec, middleware, retry, timeout, ttl), e.g. the same as
   * the HTTP layer's launches. @default from the task: its codec (else json), retry,
   * timeout and ttl, no middleware
   */
  launchSettings?(task: TaskDefinition): LaunchSettings | undefined;
  /** Schedules already reported for a task this process does not know: warned once each. */
  warned?: Set<string>;
}

/** Ticks one call fires at most, so that one schedule cannot hold a firer for long. */
const MAX_TICKS_PER_CALL = 100;

/**
 * Fires every due tick of one schedule: each launches one computation keyed
 * `tickKey(id, tick)` (a firer that loses the race meets the existing record), then the
 * schedule is advanced by a compare-and-set on its revision, so firers in any number of
 * processes agree. Applies the catch-up window (older ticks are dropped in one jump) and
 * the overlap policy. Resolves with the schedule as it is now (`undefined` once deleted).
 */
export async function fireDueTicks(
  state: ScheduleState,
  context: FireContext,
): Promise<ScheduleState | undefined> {
  let current: ScheduleState | undefined = state;
  for (let count = 0; count < MAX_TICKS_PER_CALL; count++) {
    if (current === undefined || context.signal?.aborted) return current;
    const now = context.clock.now();
    const tick = current.nextRunAt;
    if (current.paused || tick === undefined || tick > now) return current;
    const oldest = now - (current.catchUp ?? DEFAULT_CATCH_UP);
    if (tick < oldest) {
      // Missed by more than the window: jump to the first tick inside it.
      const next = nextTick(current, oldest - 1);
      current = await advance(context, current, (latest) =>
        latest.nextRunAt === tick ? { ...skipped(latest, tick), ...nextRun(next) } : undefined,
      );
      continue;
    }
    const task = context.findTask(current.task);
    if (task === undefined) {
      // Another process that has the task fires it; this one leaves it due.
      if (context.warned?.has(current.id)) return current;
      context.warned?.add(current.id);
      context.logger.warn(
        `[au] schedule "${current.id}": task "${current.task}" is not known in this process; its ticks wait for a firer that has it`,
      );
      return current;
    }
    const key = tickKey(current.id, tick);
    const verdict = await overlapVerdict(context, current, key);
    if (verdict === 'wait') return current;
    if (verdict === 'skip') {
      current = await advance(context, current, (latest) =>
        latest.nextRunAt === tick
          ? { ...skipped(latest, tick), ...nextRun(nextTick(latest, tick)) }
          : undefined,
      );
      continue;
    }
    if (verdict === 'launch') {
      try {
        await launchTick(context, current, task, key);
      } catch (error) {
        if (!isPermanent(error)) throw error; // the tick stays due: the next pass tries again
        context.logger.error(
          `[au] schedule "${current.id}": the run of tick ${tick} was refused: ${String(error)}`,
        );
      }
    }
    current = await advance(context, current, (latest) => {
      const next: ScheduleState = { ...latest };
      if (latest.nextRunAt === tick) Object.assign(next, nextRun(nextTick(latest, tick)));
      if ((latest.lastRunAt ?? Number.NEGATIVE_INFINITY) < tick) {
        next.lastRunAt = tick;
        next.lastKey = key;
      }
      return next.nextRunAt === latest.nextRunAt && next.lastKey === latest.lastKey ? undefined : next;
    });
  }
  return current;
}

/**
 * `launch`, or `done` when the tick's record exists already (another firer won),
 * `skip` or `wait` when the previous run is still active and the policy says so.
 */
async function overlapVerdict(
  context: FireContext,
  state: ScheduleState,
  key: string,
): Promise<'launch' | 'done' | 'skip' | 'wait'> {
  if (state.overlap === 'allow' || state.lastKey === undefined || state.lastKey === key) return 'launch';
  if ((await context.store.get(key)) !== undefined) return 'done';
  const previous = await context.store.get(state.lastKey);
  if (previous === undefined || isTerminalStatus(previous.status)) return 'launch';
  return state.overlap === 'queue' ? 'wait' : 'skip';
}

/**
 * Launches the tick's run, keyed `tickKey(id, tick)`. A key that exists means the tick
 * was fired already (another firer won): the launch joins it, or, when the schedule was
 * replaced with another input or task since, meets a `KeyConflictError`; either way the
 * tick runs once.
 */
async function launchTick(
  context: FireContext,
  state: ScheduleState,
  task: TaskDefinition,
  key: string,
): Promise<void> {
  const settings = tickSettings(context.launchSettings?.(task) ?? defaultSettings(context, task));
  const input = state.args === undefined ? undefined : settings.codec.decode(state.args);
  const options: LaunchOptions = { key, tags: [scheduleTag(state.id), ...(state.tags ?? [])] };
  if (state.priority !== undefined) options.priority = state.priority;
  if (state.ttl !== undefined) options.ttl = state.ttl;
  try {
    await launchComputation(task, input, settings, options);
  } catch (error) {
    if (!KeyConflictError.isInstance(error)) throw error;
  }
}

/**
 * The settings without an idempotency window: a tick's key is never launched again,
 * whereas a keyed launch past the window would start a second run of a finished tick.
 */
function tickSettings(settings: LaunchSettings): LaunchSettings {
  if (settings.idempotencyWindow === undefined) return settings;
  const { idempotencyWindow: _window, ...rest } = settings;
  return rest;
}

function defaultSettings(context: FireContext, task: TaskDefinition): LaunchSettings {
  const settings: LaunchSettings = {
    store: context.store,
    backend: context.backend,
    codec: task.codec ?? jsonCodec,
    retry: task.retry ?? NO_RETRY,
    middleware: [],
    clock: context.clock,
    logger: context.logger,
  };
  if (task.timeout !== undefined) settings.timeout = task.timeout;
  if (task.ttl !== undefined) settings.ttl = task.ttl;
  return settings;
}

/**
 * Applies `change` to the latest version of the schedule by compare-and-set, reading it
 * again after a lost race. `change` returns `undefined` when there is nothing to write.
 */
async function advance(
  context: FireContext,
  state: ScheduleState,
  change: (latest: ScheduleState) => ScheduleState | undefined,
): Promise<ScheduleState | undefined> {
  let latest: ScheduleState | undefined = state;
  for (;;) {
    if (latest === undefined) return undefined;
    const next = change(latest);
    if (next === undefined) return latest;
    next.revision = latest.revision + 1;
    next.updatedAt = context.clock.now();
    if (await context.repository.save(next, latest.revision)) return next;
    latest = await context.repository.get(state.id);
  }
}

function skipped(state: ScheduleState, tick: number): ScheduleState {
  return { ...state, skipped: (state.skipped ?? 0) + 1, lastSkippedAt: tick };
}

/** The `nextRunAt` field for a next tick that may not exist (the schedule ended). */
function nextRun(next: number | undefined): Pick<ScheduleState, 'nextRunAt'> {
  return { nextRunAt: next } as Pick<ScheduleState, 'nextRunAt'>;
}

/**
 * An error that trying again would not cure: the tick is given up. A full queue is not
 * one: the tick stays due until the queue has room or it falls out of the catch-up window.
 */
function isPermanent(error: unknown): boolean {
  return (
    AuError.isInstance(error) &&
    !isUnavailableError(error) &&
    !ClosedError.isInstance(error) &&
    !QueueFullError.isInstance(error)
  );
}
