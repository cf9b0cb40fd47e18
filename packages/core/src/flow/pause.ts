import type { ComputationBackend, PausedState } from '../contracts/backend';
import { getDefaults } from '../defaults';
import { ConfigError } from '../errors/config-error';
import { checkOptions, optionNames } from '../internal/check-options';
import { isTaskDefinition, type TaskDefinition } from '../task';

/**
 * Pause and resume: stop starting work of one task, or of the whole queue, on every
 * worker of a backend, and start it again. Running work finishes; paused work stays
 * `pending` and keeps its place. A distributed backend (BullMQ, Postgres) keeps the pause
 * in Redis or Postgres, so it holds for workers that start later and across restarts.
 *
 * A task is named, not looked up: pausing a task that no worker has launched or loaded
 * yet is allowed (a deploy may pause a task before its workers start), and a misspelled
 * name is simply a pause that matches nothing — `pausedState` lists it.
 */
export interface PauseOptions {
  /** @default the current defaults' backend */
  backend?: ComputationBackend;
}

const PAUSE_OPTIONS = optionNames<PauseOptions>({ backend: true });
const TASK_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Stops starting `task` (a definition or its name) everywhere; resolves with what is paused now. */
export async function pauseTask(
  task: TaskDefinition | string,
  options: PauseOptions = {},
): Promise<PausedState> {
  const backend = pausable('pauseTask', options);
  await backend.pause(taskName('pauseTask', task));
  return backend.paused();
}

/** Starts `task` again after `pauseTask`; resuming a task that is not paused is a no-op. */
export async function resumeTask(
  task: TaskDefinition | string,
  options: PauseOptions = {},
): Promise<PausedState> {
  const backend = pausable('resumeTask', options);
  await backend.resume(taskName('resumeTask', task));
  return backend.paused();
}

/** Stops starting any task on the backend (tasks paused one by one stay paused after `resumeQueue`). */
export async function pauseQueue(options: PauseOptions = {}): Promise<PausedState> {
  const backend = pausable('pauseQueue', options);
  await backend.pause();
  return backend.paused();
}

/** Starts the queue again after `pauseQueue`; tasks paused one by one stay paused. */
export async function resumeQueue(options: PauseOptions = {}): Promise<PausedState> {
  const backend = pausable('resumeQueue', options);
  await backend.resume();
  return backend.paused();
}

/** What is paused on the backend: the whole queue, and tasks one by one (sorted). */
export async function pausedState(options: PauseOptions = {}): Promise<PausedState> {
  return pausable('pausedState', options).paused();
}

/** Whether a backend can pause and resume (it has `pause`, `resume` and `paused`). */
export function canPause(
  backend: ComputationBackend,
): backend is ComputationBackend & Required<Pick<ComputationBackend, 'pause' | 'resume' | 'paused'>> {
  return (
    typeof backend.pause === 'function' &&
    typeof backend.resume === 'function' &&
    typeof backend.paused === 'function'
  );
}

// ---- private helpers --------------------------------------------------------------

function pausable(where: string, options: PauseOptions) {
  checkOptions(where, options, PAUSE_OPTIONS);
  const backend = options.backend ?? getDefaults().backend;
  if (!canPause(backend)) {
    throw new ConfigError({
      setting: `${where}: backend`,
      message: `backend "${backend.name}" cannot pause and resume work (it has no \`pause\`, \`resume\` and \`paused\`); use a backend that can, e.g. BullMQ, Postgres or the local ones`,
    });
  }
  return backend;
}

function taskName(where: string, task: TaskDefinition | string): string {
  const name = isTaskDefinition(task) ? task.name : task;
  if (typeof name !== 'string' || !TASK_NAME.test(name)) {
    throw new TypeError(
      `[au] ${where}: the task must be a task made by defineTask or a task name (letters, digits, . _ : -, 1 to 100), got ${typeof name === 'string' ? JSON.stringify(name.slice(0, 120)) : typeof name}`,
    );
  }
  return name;
}
