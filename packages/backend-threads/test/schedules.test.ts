import { MemoryStore, StoreScheduler, TaskRegistry } from '@au/core';
import { conformanceTasks, conformanceTasksUrl, testSchedules } from '@au/testing';
import { ThreadsBackend } from '../src/index';

const tasks = new TaskRegistry(Object.values(conformanceTasks));

// Three schedulers over one store and one pool, as in one job server with its embedded backend.
testSchedules('StoreScheduler over MemoryStore and ThreadsBackend', () => {
  const store = new MemoryStore();
  const backend = new ThreadsBackend({ tasks: [conformanceTasksUrl], concurrency: 2 });
  return {
    store,
    openScheduler: () =>
      new StoreScheduler({ store, backend, findTask: (name) => tasks.find(name), pollInterval: 50 }),
    async close() {
      await backend.close({ timeout: 1000 });
      await store.close();
    },
  };
});
