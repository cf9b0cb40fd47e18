import { ConfigError } from '@au/core';
import type { BackendProvider } from '@au/core/kit';
import { ThreadsBackend } from './threads-backend';

/**
 * `AU_BACKEND=threads` for `configFromEnv`: a ThreadsBackend loading the `AU_TASKS`
 * modules (plus any the program adds), with `AU_CONCURRENCY` threads.
 */
export const backendProvider: BackendProvider = {
  matches: (value) => value === 'threads',
  create({ taskModules, concurrency, maxQueued }) {
    if (taskModules.length === 0) {
      throw new ConfigError({
        setting: 'AU_TASKS',
        message:
          'AU_BACKEND=threads runs tasks from task modules, and none was given: set AU_TASKS to a comma-separated list of modules that export defineTask results',
      });
    }
    return new ThreadsBackend({
      tasks: taskModules,
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(maxQueued === undefined ? {} : { maxQueued }),
    });
  },
};
