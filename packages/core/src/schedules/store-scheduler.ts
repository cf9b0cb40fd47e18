import { type Clock, systemClock, type TimerHandle } from '../clock';
import type { ComputationBackend } from '../contracts/backend';
import type {
  ComputationScheduler,
  ScheduleRepository,
  ScheduleSpec,
  ScheduleState,
} from '../contracts/scheduler';
import type { ComputationStore } from '../contracts/store';
import { ConfigError } from '../errors/config-error';
import { InvalidScheduleError } from '../errors/invalid-schedule-error';
import { checkOptions, optionNames } from '../internal/check-options';
import { assertValidKey } from '../keys';
import type { LaunchSettings } from '../launch';
import { silentLogger } from '../logger';
import type { TaskDefinition, TaskLogger } from '../task';
import { checkScheduleSpec } from './check-schedule-spec';
import { fireDueTicks } from './fire-schedule';
import { nextTick } from './next-tick';

export interface StoreSchedulerOptions {
  /** Where the runs' records go. */
  store: ComputationStore;
  /** Where the runs run. */
  backend: ComputationBackend;
  /** Finds a task by name, for `upsert` (an unknown task is refused) and for firing. */
  findTask(name: string): TaskDefinition | undefined;
  /**
   * How runs of a task launch, e.g. with the HTTP layer's codec and middleware; the store
   * and backend must be this scheduler's. @default from the task (see `FireContext`)
   */
  launchSettings?(task: TaskDefinition): LaunchSettings | undefined;
  /** Where schedules are kept. @default store.schedules */
  repository?: ScheduleRepository;
  /** Fire due ticks from this process; `false` only keeps schedules (a producer without workers). @default true */
  fire?: boolean;
  /** Longest wait between two looks at the schedules, in ms (schedules made by other processes are seen this late). @default 1000 */
  pollInterval?: number;
  /** @default systemClock (its timers never hold the process open) */
  clock?: Clock;
  /** @default silentLogger */
  logger?: TaskLogger;
}

const STORE_SCHEDULER_OPTIONS = optionNames<StoreSchedulerOptions>({
  store: true,
  backend: true,
  findTask: true,
  launchSettings: true,
  repository: true,
  fire: true,
  pollInterval: true,
  clock: true,
  logger: true,
});

/** Shortest wait between two passes, so a burst of due ticks does not spin. */
const MIN_WAIT = 10;
/** Wait before looking again at a tick that is due but waits for an earlier run. */
const RECHECK_WAIT = 50;

/**
 * Core's scheduler: schedules are kept in the store (`store.schedules`, or another
 * `ScheduleRepository`) and fired by a timer in every process that has one open. Firers
 * in several processes share the work safely: each tick's record key is
 * `tickKey(id, tick)` and each advance is a compare-and-set. A tick missed while no
 * firer ran (a restart) is fired late when it is within the schedule's `catchUp` window.
 * The timer never holds the process open.
 */
export class StoreScheduler implements ComputationScheduler {
  readonly name = 'store';
  readonly #store: ComputationStore;
  readonly #backend: ComputationBackend;
  readonly #repository: ScheduleRepository;
  readonly #findTask: (name: string) => TaskDefinition | undefined;
  readonly #launchSettings: ((task: TaskDefinition) => LaunchSettings | undefined) | undefined;
  readonly #clock: Clock;
  readonly #logger: TaskLogger;
  readonly #pollInterval: number;
  readonly #abort = new AbortController();
  readonly #warned = new Set<string>();
  #timer: TimerHandle | undefined;
  #timerDue = Number.POSITIVE_INFINITY;
  #pass: Promise<void> | undefined;
  #passAgain = false;
  #closed = false;

  constructor(options: StoreSchedulerOptions) {
    checkOptions('StoreScheduler', options, STORE_SCHEDULER_OPTIONS);
    const repository = options.repository ?? options.store.schedules;
    if (repository === undefined) {
      throw new ConfigError({
        setting: 'StoreScheduler store',
        message: `the ${options.store.name} store keeps no schedules: use a store with schedules (memory, fs) or a backend with its own scheduler`,
      });
    }
    this.#store = options.store;
    this.#backend = options.backend;
    this.#repository = repository;
    this.#findTask = options.findTask;
    this.#launchSettings = options.launchSettings;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#pollInterval = options.pollInterval ?? 1000;
    if (!(this.#pollInterval >= MIN_WAIT)) {
      throw new ConfigError({
        setting: 'StoreScheduler pollInterval',
        message: `must be at least ${MIN_WAIT} ms, got ${String(options.pollInterval)}`,
      });
    }
    if (options.fire !== false) this.#wake(0);
  }

  // ---- Changing -------------------------------------------------------------------

  async upsert(spec: ScheduleSpec): Promise<ScheduleState> {
    this.#assertOpen();
    const checked = checkScheduleSpec(spec);
    if (this.#findTask(checked.task) === undefined) {
      throw new InvalidScheduleError({
        schedule: checked.id,
        field: 'task',
        problem: `"${checked.task}" is not a task known here: register the task (defineTask, the server's task modules) first`,
      });
    }
    const now = this.#clock.now();
    const state = await this.#change(checked.id, (current) => {
      const retimed = current === undefined || !sameTiming(current, checked);
      const next: ScheduleState = {
        ...checked,
        paused: current?.paused ?? false,
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
        revision: (current?.revision ?? 0) + 1,
      };
      for (const field of ['lastRunAt', 'lastKey', 'skipped', 'lastSkippedAt'] as const) {
        if (current?.[field] !== undefined)
          (next as unknown as Record<string, unknown>)[field] = current[field];
      }
      const nextRunAt = retimed ? nextTick(checked, now) : current.nextRunAt;
      if (nextRunAt !== undefined) next.nextRunAt = nextRunAt;
      else if (retimed) {
        throw new InvalidScheduleError({
          schedule: checked.id,
          field: 'endAt',
          problem: 'leaves no tick after now: the schedule would never fire',
        });
      }
      return next;
    });
    this.#wake(0);
    return state!;
  }

  async pause(id: string): Promise<ScheduleState | undefined> {
    this.#assertOpen();
    return this.#change(id, (current) =>
      current === undefined ? undefined : this.#touch(current, { paused: true }),
    );
  }

  async resume(id: string): Promise<ScheduleState | undefined> {
    this.#assertOpen();
    const state = await this.#change(id, (current) => {
      if (current === undefined) return undefined;
      const next = this.#touch(current, { paused: false });
      const nextRunAt = nextTick(current, this.#clock.now());
      if (nextRunAt === undefined) delete next.nextRunAt;
      else next.nextRunAt = nextRunAt;
      return next;
    });
    this.#wake(0);
    return state;
  }

  async delete(id: string): Promise<boolean> {
    this.#assertOpen();
    assertValidKey(id);
    return this.#repository.delete(id);
  }

  // ---- Reading --------------------------------------------------------------------

  async get(id: string): Promise<ScheduleState | undefined> {
    this.#assertOpen();
    assertValidKey(id);
    return this.#repository.get(id);
  }

  async list(): Promise<ScheduleState[]> {
    this.#assertOpen();
    const states = await this.#repository.list();
    return states.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  // ---- Stopping -------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }

  // ---- private helpers ------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new TypeError('[au] this StoreScheduler is closed: open a new one');
  }

  #touch(state: ScheduleState, fields: Partial<ScheduleState>): ScheduleState {
    return { ...state, ...fields, updatedAt: this.#clock.now(), revision: state.revision + 1 };
  }

  /** Compare-and-set on the schedule's revision until it lands; `undefined` when `change` writes nothing. */
  async #change(
    id: string,
    change: (current: ScheduleState | undefined) => ScheduleState | undefined,
  ): Promise<ScheduleState | undefined> {
    assertValidKey(id);
    for (;;) {
      const current = await this.#repository.get(id);
      const next = change(current);
      if (next === undefined) return undefined;
      if (await this.#repository.save(next, current === undefined ? null : current.revision)) return next;
    }
  }

  /** Makes the firer look at the schedules within `delay` ms. */
  #wake(delay: number): void {
    if (this.#closed) return;
    if (this.#pass !== undefined) {
      if (delay === 0) this.#passAgain = true;
      return;
    }
    const due = this.#clock.now() + delay;
    if (this.#timer !== undefined) {
      if (due >= this.#timerDue) return;
      this.#clock.clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = Number.POSITIVE_INFINITY;
      this.#pass = this.#fireAll().then((wait) => {
        this.#pass = undefined;
        this.#wake(wait);
      });
    }, delay);
  }

  /** One pass over every schedule; resolves with the wait until the next pass: to the earliest next tick, at most `pollInterval`. */
  async #fireAll(): Promise<number> {
    let earliest = this.#clock.now() + this.#pollInterval;
    try {
      for (const state of await this.#repository.list()) {
        if (this.#closed) return 0;
        try {
          const latest = await fireDueTicks(state, {
            store: this.#store,
            backend: this.#backend,
            repository: this.#repository,
            findTask: this.#findTask,
            clock: this.#clock,
            logger: this.#logger,
            signal: this.#abort.signal,
            warned: this.#warned,
            ...(this.#launchSettings === undefined ? {} : { launchSettings: this.#launchSettings }),
          });
          if (latest !== undefined && !latest.paused && latest.nextRunAt !== undefined) {
            // A tick still due waits for an earlier run (overlap: queue): look again soon.
            const now = this.#clock.now();
            earliest = Math.min(earliest, latest.nextRunAt > now ? latest.nextRunAt : now + RECHECK_WAIT);
          }
        } catch (error) {
          if (this.#closed) return 0;
          this.#logger.warn(
            `[au] schedule "${state.id}" could not fire (tried again shortly): ${String(error)}`,
          );
        }
      }
    } catch (error) {
      if (this.#closed) return 0;
      this.#logger.warn(`[au] the schedules could not be read (tried again shortly): ${String(error)}`);
    }
    const again = this.#passAgain;
    this.#passAgain = false;
    return again ? 0 : Math.max(MIN_WAIT, earliest - this.#clock.now());
  }
}

function sameTiming(a: ScheduleSpec, b: ScheduleSpec): boolean {
  return (
    a.cron === b.cron &&
    a.every === b.every &&
    a.timezone === b.timezone &&
    a.startAt === b.startAt &&
    a.endAt === b.endAt
  );
}
