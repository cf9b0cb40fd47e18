import { type PausedTasksPlace, parsePausedState, readPausedState } from './paused-tasks';

/** Ms between two reads of the paused set, should an announcement be lost. */
export const PAUSED_REFRESH = 5000;

/**
 * A worker's copy of its queue's paused tasks, so that a job of a task that is not paused
 * starts without asking Redis first (the check cost every job a round trip and a script).
 * Every pause and resume announces the whole set with a version (`pausedTasksChannel`); the
 * copy takes an announcement or a read only when it is newer than what it holds. Until the
 * first read, and while the subscriber connection is down, the copy is unknown and every
 * job asks Redis, as without a copy; a read every `PAUSED_REFRESH` ms mends a lost
 * announcement. A task the copy says is paused is always checked in Redis
 * (`parkIfPaused`'s script), so a stale copy never parks a resumed task's job.
 */
export class PausedTasksView {
  readonly #place: PausedTasksPlace;
  #tasks: ReadonlySet<string> | undefined;
  #version = -1;
  /** Raised by `forget`: a read sent before it may predate what was missed, and is dropped. */
  #generation = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(place: PausedTasksPlace) {
    this.#place = place;
  }

  /** False only when the copy is known and does not hold `task`. */
  mayBePaused(task: string): boolean {
    return this.#tasks === undefined || this.#tasks.has(task);
  }

  /** An announcement from `pausedTasksChannel`. */
  take(message: string): void {
    const state = parsePausedState(message);
    if (state === undefined || state.version < this.#version) return;
    this.#version = state.version;
    this.#tasks = new Set(state.tasks);
  }

  /** Reads the set now (once subscribed, after a reconnect, and every `PAUSED_REFRESH` ms). */
  async refresh(): Promise<void> {
    const generation = this.#generation;
    const state = await readPausedState(this.#place);
    if (generation === this.#generation) this.take(state);
  }

  /** Refreshes every `PAUSED_REFRESH` ms until `stop`; a failed read leaves the copy as it was. */
  start(): void {
    this.#timer ??= setInterval(() => {
      this.refresh().catch(() => undefined);
    }, PAUSED_REFRESH);
    this.#timer.unref?.();
  }

  /** The subscriber connection dropped: announcements may be missed until it is back. */
  forget(): void {
    this.#generation += 1;
    this.#tasks = undefined;
    this.#version = -1;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
