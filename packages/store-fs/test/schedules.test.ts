import { InProcessBackend, StoreScheduler, TaskRegistry } from '@au/core';
import { conformanceTasks, testSchedules } from '@au/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSystemStore } from '../src/index';
import { removeTempRoots, tempRoot } from './helpers/temp-root';

afterAll(removeTempRoots);

const tasks = new TaskRegistry(Object.values(conformanceTasks));

// Each scheduler opens its own store and backend over one directory, as separate
// job-server processes would.
testSchedules('StoreScheduler over FileSystemStore', () => {
  const root = tempRoot();
  const store = new FileSystemStore({ root, autoCleanup: false });
  const opened: { store: FileSystemStore; backend: InProcessBackend }[] = [];
  return {
    store,
    openScheduler() {
      const own = {
        store: new FileSystemStore({ root, autoCleanup: false }),
        backend: new InProcessBackend(),
      };
      opened.push(own);
      return new StoreScheduler({ ...own, findTask: (name) => tasks.find(name), pollInterval: 50 });
    },
    async close() {
      for (const own of opened) {
        await own.backend.close({ timeout: 1000 });
        await own.store.close();
      }
      await store.close();
    },
  };
});

describe('FileSystemStore schedules', () => {
  describe('when the store is opened again', () => {
    it('should keep the schedules, and compare revisions on save', async () => {
      const root = tempRoot();
      const first = new FileSystemStore({ root, autoCleanup: false });
      const state = {
        id: 'nightly',
        task: 'report',
        cron: '0 3 * * *',
        overlap: 'skip' as const,
        paused: false,
        createdAt: 1,
        updatedAt: 1,
        revision: 1,
      };
      expect(await first.schedules.save(state, null)).toBe(true);
      expect(await first.schedules.save(state, null)).toBe(false);
      await first.close();
      const second = new FileSystemStore({ root, autoCleanup: false });
      expect(await second.schedules.get('nightly')).toEqual(state);
      expect(await second.schedules.save({ ...state, revision: 2 }, 5)).toBe(false);
      expect(await second.schedules.save({ ...state, revision: 2 }, 1)).toBe(true);
      expect((await second.schedules.list()).map((item) => item.revision)).toEqual([2]);
      expect(await second.schedules.delete('nightly')).toBe(true);
      expect(await second.schedules.list()).toEqual([]);
      await second.close();
    });
  });
});
