import { jsonCodec } from '../codecs/json-codec';
import type { ComputationBackend } from '../contracts/backend';
import type {
  ComputationScheduler,
  OverlapPolicy,
  ScheduleSpec,
  ScheduleState,
} from '../contracts/scheduler';
import type { ComputationStore } from '../contracts/store';
import { getDefaults } from '../defaults';
import { InvalidScheduleError } from '../errors/invalid-schedule-error';
import { ScheduleNotFoundError } from '../errors/schedule-not-found-error';
import { checkOptions, optionNames } from '../internal/check-options';
import { validateInput } from '../internal/validate-input';
import { encodeInput } from '../launch';
import { isTaskDefinition, type TaskDefinition } from '../task';
import { openScheduler } from './open-scheduler';

/** Where a schedule call goes: a scheduler, or the one of a store and a backend. */
export interface SchedulesOptions {
  /** @default the current defaults' store */
  store?: ComputationStore;
  /** @default the current defaults' backend */
  backend?: ComputationBackend;
  /** Use this scheduler instead of the one of the store and backend. */
  scheduler?: ComputationScheduler;
}

/** Options of `schedule`: when the task runs, with what, and where. */
export interface ScheduleOptions<Input = unknown> extends SchedulesOptions {
  /** The schedule's name, unique in its store; upserting the same id replaces it. @default the task's name */
  id?: string;
  /** A cron expression (5 fields, or 6 with seconds first). Exactly one of `cron` and `every`. */
  cron?: string;
  /** Milliseconds between ticks (at least 100). */
  every?: number;
  /** IANA time zone of `cron`. @default UTC */
  timezone?: string;
  /** The input every run gets, checked now by the task's schema. */
  input?: Input;
  /** No tick before this time. */
  startAt?: number | Date;
  /** No tick after this time. */
  endAt?: number | Date;
  /** A tick while the previous run is active: `skip` it, `allow` it, or `queue` it. @default 'skip' */
  overlap?: OverlapPolicy;
  priority?: number;
  tags?: string[];
  /** Seconds each run's record is kept after it ends. */
  ttl?: number;
  /** Ms: missed ticks younger than this are run after a restart. @default 60000 */
  catchUp?: number;
}

const SCHEDULE_OPTIONS = optionNames<ScheduleOptions>({
  store: true,
  backend: true,
  scheduler: true,
  id: true,
  cron: true,
  every: true,
  timezone: true,
  input: true,
  startAt: true,
  endAt: true,
  overlap: true,
  priority: true,
  tags: true,
  ttl: true,
  catchUp: true,
});
const SCHEDULES_OPTIONS = optionNames<SchedulesOptions>({ store: true, backend: true, scheduler: true });

// Tasks given to `schedule` in this process, found by name when a tick fires.
const scheduledTasks = new Map<string, TaskDefinition>();
// One scheduler per store and backend, opened at the first call.
const schedulers = new WeakMap<ComputationStore, WeakMap<ComputationBackend, ComputationScheduler>>();

/**
 * Runs `task` on a schedule: `await schedule(report, { cron: '0 9 * * 1', timezone: 'Europe/Paris' })`.
 * Creates the schedule or replaces the one with the same id (a schedule whose timing did
 * not change keeps its place). Nothing is stored when an option is wrong:
 * `InvalidScheduleError` for the timing, `ValidationError` for the input.
 *
 * The schedule is kept where the store or backend keeps them and fires while a process
 * has its scheduler open: this one (calling `schedule` opens it; its timer never holds
 * the process open), or a job server over the same store. Call `schedule` again at
 * start-up so that this process knows the task.
 */
export async function schedule<Input, Result>(
  task: TaskDefinition<Input, Result>,
  options: ScheduleOptions<Input>,
): Promise<ScheduleState> {
  if (!isTaskDefinition(task)) throw new TypeError('[au] schedule takes a task made by defineTask');
  checkOptions('schedule', options, SCHEDULE_OPTIONS);
  const { store, backend, scheduler, input, startAt, endAt, id, ...timing } = options;
  validateInput(task.name, task.input, input);
  const spec: ScheduleSpec = {
    ...timing,
    id: id ?? task.name,
    task: task.name,
    overlap: options.overlap ?? 'skip',
  };
  if (input !== undefined) spec.args = encodeInput(task.name, task.codec ?? jsonCodec, input);
  if (startAt !== undefined) spec.startAt = toTime('startAt', startAt, spec.id);
  if (endAt !== undefined) spec.endAt = toTime('endAt', endAt, spec.id);
  scheduledTasks.set(task.name, task as TaskDefinition);
  return schedulerOf({ store, backend, scheduler }).upsert(spec);
}

/** Every schedule of the store and backend (or scheduler), by id. */
export function listSchedules(options: SchedulesOptions = {}): Promise<ScheduleState[]> {
  checkOptions('listSchedules', options, SCHEDULES_OPTIONS);
  return schedulerOf(options).list();
}

/** One schedule; `ScheduleNotFoundError` when there is none. */
export async function getSchedule(id: string, options: SchedulesOptions = {}): Promise<ScheduleState> {
  checkOptions('getSchedule', options, SCHEDULES_OPTIONS);
  return found(id, await schedulerOf(options).get(id));
}

/** Stops a schedule firing; `ScheduleNotFoundError` when there is none. */
export async function pauseSchedule(id: string, options: SchedulesOptions = {}): Promise<ScheduleState> {
  checkOptions('pauseSchedule', options, SCHEDULES_OPTIONS);
  return found(id, await schedulerOf(options).pause(id));
}

/** Fires a paused schedule again from its next tick; `ScheduleNotFoundError` when there is none. */
export async function resumeSchedule(id: string, options: SchedulesOptions = {}): Promise<ScheduleState> {
  checkOptions('resumeSchedule', options, SCHEDULES_OPTIONS);
  return found(id, await schedulerOf(options).resume(id));
}

/** Removes a schedule (runs already launched go on); `true` when there was one. */
export function deleteSchedule(id: string, options: SchedulesOptions = {}): Promise<boolean> {
  checkOptions('deleteSchedule', options, SCHEDULES_OPTIONS);
  return schedulerOf(options).delete(id);
}

function schedulerOf(options: SchedulesOptions): ComputationScheduler {
  if (options.scheduler !== undefined) return options.scheduler;
  const defaults = getDefaults();
  const store = options.store ?? defaults.store;
  const backend = options.backend ?? defaults.backend;
  let byBackend = schedulers.get(store);
  if (byBackend === undefined) {
    byBackend = new WeakMap();
    schedulers.set(store, byBackend);
  }
  let scheduler = byBackend.get(backend);
  if (scheduler === undefined) {
    scheduler = openScheduler({
      store,
      backend,
      findTask: (name) => scheduledTasks.get(name),
      ...(defaults.clock === undefined ? {} : { clock: defaults.clock }),
    });
    byBackend.set(backend, scheduler);
  }
  return scheduler;
}

function found(id: string, state: ScheduleState | undefined): ScheduleState {
  if (state === undefined) throw new ScheduleNotFoundError({ schedule: id, where: 'this scheduler' });
  return state;
}

function toTime(field: string, value: number | Date, schedule: string): number {
  const time = value instanceof Date ? value.getTime() : value;
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new InvalidScheduleError({ schedule, field, problem: 'must be a Date or ms since the epoch' });
  }
  return time;
}
