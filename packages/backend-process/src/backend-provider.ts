import { ConfigError } from '@au/core';
import type { BackendProvider } from '@au/core/kit';
import { ProcessBackend } from './process-backend';

/**
 * `AU_BACKEND=process` for `configFromEnv`: a ProcessBackend loading the `AU_TASKS`
 * modules (plus any the program adds), with up to `AU_CONCURRENCY` worker processes.
 */
export const backendProvider: BackendProvider = {
  matches: (value) => value === 'process',
  create({ taskModules, concurrency, maxQueued }) {
    if (taskModules.length === 0) {
      throw new ConfigError({
        setting: 'AU_TASKS',
        message:
          'AU_BACKEND=process runs tasks from task modules, and none was given: set AU_TASKS to a comma-separated list of modules that export defineTask results',
      });
    }
    return new ProcessBackend({
      tasks: taskModules,
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(maxQueued === undefined ? {} : { maxQueued }),
    });
  },
};
