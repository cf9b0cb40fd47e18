import type { ComputationBackend, ComputationStore, TaskDefinition, TaskLogger } from '@au/core';
import { systemClock } from '@au/core';
import { fireDueTicks, type LaunchSettings } from '@au/core/kit';
import type { SqlScheduleRepository } from './sql-schedule-repository';

export interface ScheduleFirerSettings {
  repository: SqlScheduleRepository;
  store: ComputationStore;
  backend: ComputationBackend;
  /** This worker's name in the leases. */
  worker: string;
  /**
   * The tasks this worker can launch (schedules of other tasks are left to other
   * workers); `undefined`: any task `findTask` finds.
   */
  tasks(): readonly string[] | undefined;
  findTask(name: string): TaskDefinition | undefined;
  /** How runs of a task launch (a scheduler's context, e.g. the HTTP layer's); `undefined`: from the task. */
  launchSettings(task: TaskDefinition): LaunchSettings | undefined;
  /** Longest wait between two looks at the schedules. */
  pollingInterval: number;
  logger: TaskLogger;
}

/** How long a firer holds a due schedule: another worker takes it over after this, if this one died. */
const FIRE_LEASE_MS = 10_000;
/** Schedules one claim takes. */
const CLAIM_LIMIT = 10;
/** Shortest wait between two looks, and the wait after a failed one is doubled up to `pollingInterval`. */
const MIN_WAIT = 10;
/** Wait before looking again at a schedule whose due tick waits for an earlier run (overlap `queue`). */
const RECHECK_WAIT = 50;

/**
 * The part of a Postgres/Supabase queue worker that fires schedules: it leases due
 * schedules (`au_schedule_claim_due`, so one worker at a time handles a schedule), fires
 * their due ticks through core's `fireDueTicks` (each tick's run keyed `tickKey(id, tick)`,
 * the schedule advanced by compare-and-set, catch-up and overlap applied), and lets go.
 * It sleeps until the earliest next tick, at most `pollingInterval`. A worker that dies
 * while it holds a schedule delays that schedule's ticks by the lease (10 s), within the
 * catch-up window: no tick is lost.
 */
export class ScheduleFirer {
  readonly #settings: ScheduleFirerSettings;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  #failures = 0;
  /** Schedules whose task this worker does not have, already reported. */
  readonly #unknown = new Set<string>();
  #stopped = false;

  constructor(settings: ScheduleFirerSettings) {
    this.#settings = settings;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Stops firing; resolves once the pass under way ends. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#pass;
  }

  // ---- private helpers ------------------------------------------------------------

  #schedule(wait: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#pass = this.#fire().then((next) => {
        this.#pass = undefined;
        this.#schedule(next);
      });
    }, wait);
    this.#timer.unref?.();
  }

  /** One look: fires what is due; resolves with the wait until the next look. */
  async #fire(): Promise<number> {
    const { repository, worker, pollingInterval, logger } = this.#settings;
    const tasks = this.#settings.tasks();
    if (tasks?.length === 0) return pollingInterval;
    let wait = pollingInterval;
    try {
      const now = Date.now();
      const { due, next } = await repository.claimDue(worker, now, {
        leaseMs: FIRE_LEASE_MS,
        limit: CLAIM_LIMIT,
        ...(tasks === undefined ? {} : { tasks }),
      });
      if (next !== null) wait = Math.min(wait, Number(next) - Date.now());
      for (const state of due) {
        if (this.#stopped) break;
        if (this.#settings.findTask(state.task) === undefined) {
          // Left due for a worker that has the task; this one looks again at its next poll.
          if (!this.#unknown.has(state.id)) {
            this.#unknown.add(state.id);
            logger.warn(
              { schedule: state.id, task: state.task },
              `[au] schedule "${state.id}": task "${state.task}" is not known to this worker; its ticks wait for a worker that has it`,
            );
          }
          await repository.release(state.id, worker).catch(() => undefined);
          continue;
        }
        try {
          const latest = await fireDueTicks(state, {
            store: this.#settings.store,
            backend: this.#settings.backend,
            repository,
            findTask: this.#settings.findTask,
            clock: systemClock,
            logger,
            signal: this.#abort.signal,
            launchSettings: this.#settings.launchSettings,
          });
          if (latest !== undefined && !latest.paused && latest.nextRunAt !== undefined) {
            const until = latest.nextRunAt - Date.now();
            wait = Math.min(wait, until > 0 ? until : RECHECK_WAIT);
          }
        } catch (error) {
          logger.warn(
            { err: error, schedule: state.id },
            `[au] schedule "${state.id}" could not fire (tried again shortly): ${String(error)}`,
          );
          wait = Math.min(wait, RECHECK_WAIT * 4);
        } finally {
          await repository.release(state.id, worker).catch(() => undefined);
        }
      }
      // A full batch: more may be due at once.
      if (due.length >= CLAIM_LIMIT) wait = 0;
      this.#failures = 0;
    } catch (error) {
      if (this.#stopped) return pollingInterval;
      this.#failures++;
      wait = Math.min(pollingInterval, MIN_WAIT * 2 ** Math.min(this.#failures, 10));
      logger.warn({ err: error }, `[au] the schedules could not be read (tried again in ${wait} ms)`);
    }
    return Math.max(MIN_WAIT, wait);
  }
}
