import type { Clock } from '../clock';
import type { ComputationBackend } from '../contracts/backend';
import type { ComputationScheduler } from '../contracts/scheduler';
import type { ComputationStore } from '../contracts/store';
import type { LaunchSettings } from '../launch';
import type { TaskDefinition, TaskLogger } from '../task';
import { StoreScheduler } from './store-scheduler';

export interface OpenSchedulerOptions {
  store: ComputationStore;
  backend: ComputationBackend;
  /** Finds a task by name (an unknown task is refused by `upsert`, and waits when firing). */
  findTask(name: string): TaskDefinition | undefined;
  /** How runs of a task launch (codec, middleware, …). @default from the task */
  launchSettings?(task: TaskDefinition): LaunchSettings | undefined;
  /** Longest wait between two looks at the schedules, for core's `StoreScheduler`. @default 1000 */
  pollInterval?: number;
  clock?: Clock;
  logger?: TaskLogger;
}

/**
 * The scheduler for a store and a backend: the backend's own (`backend.scheduler`) when
 * it has one, else core's `StoreScheduler`, which keeps schedules in the store and fires
 * them from this process. Close it before the backend.
 */
export function openScheduler(options: OpenSchedulerOptions): ComputationScheduler {
  const { store, backend, findTask, clock, logger, launchSettings } = options;
  if (backend.scheduler !== undefined) {
    return backend.scheduler({
      store,
      findTask,
      ...(launchSettings === undefined ? {} : { launchSettings }),
      ...(clock === undefined ? {} : { clock }),
      ...(logger === undefined ? {} : { logger }),
    });
  }
  return new StoreScheduler({
    store,
    backend,
    findTask,
    ...(launchSettings === undefined ? {} : { launchSettings }),
    ...(options.pollInterval === undefined ? {} : { pollInterval: options.pollInterval }),
    ...(clock === undefined ? {} : { clock }),
    ...(logger === undefined ? {} : { logger }),
  });
}
