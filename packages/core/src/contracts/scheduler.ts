import type { Clock } from '../clock';
import type { LaunchSettings } from '../launch';
import type { TaskDefinition, TaskLogger } from '../task';
import type { ComputationStore } from './store';

/**
 * What a schedule does when a tick comes while the run of an earlier tick is still
 * `pending` or `running`:
 *
 * - `skip`: the tick is dropped (counted in `skipped`, time in `lastSkippedAt`).
 * - `allow`: the tick runs anyway, beside the earlier run.
 * - `queue`: the tick waits, and runs as soon as the earlier run ends; ticks keep their
 *   order and each runs once, one at a time, late. The backlog is bounded by the
 *   schedule's `catchUp` window: a waiting tick that falls out of it is dropped like any
 *   missed tick.
 */
export type OverlapPolicy = 'skip' | 'allow' | 'queue';

/** The overlap policies, for validation and schemas. */
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'allow', 'queue'];

/**
 * A schedule as stored: plain serializable data, the same in every implementation.
 * Exactly one of `cron` and `every` is set.
 */
export interface ScheduleSpec {
  /**
   * The schedule's name, unique in its store. A valid key (`[A-Za-z0-9_.:-]`, at most
   * 100 characters), since each tick's computation key is made from it (`tickKey`).
   */
  id: string;
  /** The task's name. */
  task: string;
  /** A cron expression (5 fields, or 6 with seconds first), read by croner. */
  cron?: string;
  /** Milliseconds between ticks (at least 100): ticks at `startAt + n × every`, or at multiples of `every` since the epoch when there is no `startAt`. */
  every?: number;
  /** IANA time zone of `cron`, e.g. `Europe/Paris`. @default UTC */
  timezone?: string;
  /**
   * The input every run gets, encoded by the task's codec as it was given (the schema
   * parses it at each launch, as for any launch; it was checked when the schedule was made).
   */
  args?: unknown;
  /** No tick before this time (ms since the epoch). */
  startAt?: number;
  /** No tick after this time (ms since the epoch). */
  endAt?: number;
  /** @default 'skip' */
  overlap: OverlapPolicy;
  /** Priority of each run. @default the task's */
  priority?: number;
  /** Tags of each run, beside `schedule:<id>` which every run carries. */
  tags?: string[];
  /** Seconds each run's record is kept after it ends. @default the task's */
  ttl?: number;
  /**
   * Catch-up window in ms: after a restart (or any gap in firing), ticks missed less
   * than this long ago are run, one run each; older missed ticks are dropped.
   * @default 60000
   */
  catchUp?: number;
}

/** A stored schedule with its progress. Every implementation keeps these fields. */
export interface ScheduleState extends ScheduleSpec {
  /** A paused schedule keeps its place but fires nothing; `resume` starts from the next tick. */
  paused: boolean;
  /** The next tick to fire (ms since the epoch); absent when the schedule has ended. */
  nextRunAt?: number;
  /** Time of the last tick that launched a run. */
  lastRunAt?: number;
  /** Computation key of that run (`tickKey(id, lastRunAt)`). */
  lastKey?: string;
  /** Ticks dropped by the overlap policy, plus one for each jump over ticks too old to catch up. */
  skipped?: number;
  /** Time of the last dropped tick. */
  lastSkippedAt?: number;
  createdAt: number;
  updatedAt: number;
  /**
   * Incremented by every write; `ScheduleRepository.save` compares it, so that two
   * firers never both advance a schedule.
   */
  revision: number;
}

/**
 * # ComputationScheduler
 *
 * Keeps schedules and makes them fire: each tick of a schedule launches one computation
 * of its task. A backend may bring its own (`ComputationBackend.scheduler`), e.g. BullMQ's
 * job schedulers or a schedules table in Postgres; otherwise core's `StoreScheduler`
 * keeps schedules in the store (`ComputationStore.schedules`) and fires them from a
 * timer in each process that opens one.
 *
 * Exactly once per tick, without locks: each tick's computation key is
 * `tickKey(id, tickTime)`, so firers racing for one tick create one record (the others
 * meet `KeyExistsError` and move on). Every implementation does this.
 *
 * Required: everything below. `upsert` validates (`InvalidScheduleError`) and changes
 * nothing on bad input. Every implementation passes `testSchedules` from `@au/testing`.
 *
 * Left out on purpose: editing a schedule field by field (upsert the whole spec), run
 * history (list the store's records by the `schedule:<id>` tag), and backfilling ticks
 * older than the catch-up window.
 */
export interface ComputationScheduler {
  /** Short name for messages and logs, e.g. `store`, `bullmq`, `postgres`. */
  readonly name: string;

  // ---- Changing -------------------------------------------------------------------

  /**
   * Creates the schedule, or replaces the spec of the one with this id. A new or
   * retimed schedule (cron, every, timezone, startAt changed) starts at its next tick
   * after now; otherwise its progress and `paused` are kept. Resolves with the state.
   */
  upsert(spec: ScheduleSpec): Promise<ScheduleState>;

  /** Stops firing; `undefined` when there is no such schedule. */
  pause(id: string): Promise<ScheduleState | undefined>;

  /** Fires again from the next tick after now (missed ticks are not caught up); `undefined` when there is none. */
  resume(id: string): Promise<ScheduleState | undefined>;

  /** Removes the schedule (runs already launched go on); `true` when there was one. */
  delete(id: string): Promise<boolean>;

  // ---- Reading --------------------------------------------------------------------

  get(id: string): Promise<ScheduleState | undefined>;

  /** Every schedule, by id. */
  list(): Promise<ScheduleState[]>;

  // ---- Stopping -------------------------------------------------------------------

  /** Stops firing in this process and releases what it holds; the schedules stay stored. */
  close(): Promise<void>;
}

/** What a backend's `scheduler(context)` gets from core. */
export interface SchedulerContext {
  /** The store the runs' records go to (the backend is bound to it). */
  store: ComputationStore;
  /** Finds a task by name, for firing; `undefined` for a task this process does not have. */
  findTask(name: string): TaskDefinition | undefined;
  /**
   * How runs of a task launch in this process (codec, middleware, retry, timeout, ttl),
   * e.g. the HTTP layer's; `undefined` (or absent): from the task, as `fireDueTicks` does.
   */
  launchSettings?(task: TaskDefinition): LaunchSettings | undefined;
  clock?: Clock;
  logger?: TaskLogger;
}

/**
 * # ScheduleRepository
 *
 * Schedule persistence offered by a store (`ComputationStore.schedules`), used by core's
 * `StoreScheduler`. Holds `ScheduleState` documents by id, with one atomic
 * compare-and-set on `revision`. MemoryStore and FileSystemStore have one.
 */
export interface ScheduleRepository {
  get(id: string): Promise<ScheduleState | undefined>;

  /** Every schedule, by id. */
  list(): Promise<ScheduleState[]>;

  /**
   * Writes `state` atomically when the stored schedule's revision is `expected`
   * (`null`: only when there is none; `undefined`: whatever is stored). Returns `false`,
   * writing nothing, when the condition does not hold. The caller sets `state.revision`
   * (one more than `expected`).
   */
  save(state: ScheduleState, expected?: number | null): Promise<boolean>;

  /** Removes the schedule; `true` when there was one. */
  delete(id: string): Promise<boolean>;
}

/** Default catch-up window: one minute. */
export const DEFAULT_CATCH_UP = 60_000;

/** The tag every run of a schedule carries. */
export function scheduleTag(id: string): string {
  return `schedule:${id}`;
}

/** The computation key of the tick of schedule `id` at `tickTime`: one record per tick, whoever fires it. */
export function tickKey(id: string, tickTime: number): string {
  return `${id}:${tickTime}`;
}
