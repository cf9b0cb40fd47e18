import { InProcessBackend, MemoryStore, StoreScheduler, TaskRegistry } from '@au/core';
import { conformanceTasks, testSchedules } from '../src/index';

const tasks = new TaskRegistry(Object.values(conformanceTasks));

testSchedules('StoreScheduler over MemoryStore and InProcessBackend', () => {
  const store = new MemoryStore();
  const backend = new InProcessBackend();
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
