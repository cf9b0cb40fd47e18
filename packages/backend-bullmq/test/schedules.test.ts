import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ComputationRecord,
  type ComputationScheduler,
  deleteSchedule,
  InvalidScheduleError,
  schedule,
  scheduleTag,
  type TaskDefinition,
} from '@au/core';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks, testSchedules } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../src/index';
import { redisUp, redisUrl, TestResources } from './helpers';
import {
  goWorkerProcess,
  preloadWorkerProcess,
  startWorkerProcess,
  stopWorkerProcess,
} from './worker-processes';

const resources = new TestResources();
const directory = mkdtempSync(join(tmpdir(), 'au-bullmq-schedules-'));
afterAll(async () => {
  if (redisUp) await resources.cleanup();
  rmSync(directory, { recursive: true, force: true });
});

const tasks = new Map<string, TaskDefinition>(
  Object.values(conformanceTasks).map((task) => [task.name, task as TaskDefinition]),
);

/** Executions the worker processes wrote ("key status pid"), by key. */
function executions(file: string): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return byKey;
  }
  for (const line of text.split('\n')) {
    const [key, status] = line.split(' ');
    if (key === undefined || status === undefined) continue;
    byKey.set(key, [...(byKey.get(key) ?? []), status]);
  }
  return byKey;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeout = 10_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`[test] ${what} did not happen within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The records of a schedule's runs, by tick time. */
async function runsOf(store: RedisStore, id: string): Promise<ComputationRecord[]> {
  const page = await store.list({ tag: scheduleTag(id), limit: 500 });
  return [...page.records].sort((a, b) => a.key.localeCompare(b.key));
}

const tickOf = (record: ComputationRecord) => Number(record.key.slice(record.key.lastIndexOf(':') + 1));

// Three worker processes serve one queue for every test of this file.
const queue = resources.queue('schedules');
const prefix = resources.prefix('schedules');
const outcomes = join(directory, 'schedules.log');
const workerEnv = { AU_REDIS_URL: redisUrl, AU_QUEUE: queue, STORE_PREFIX: prefix, OUTCOME_FILE: outcomes };
let workers: ChildProcess[] = [];
if (redisUp) {
  beforeAll(async () => {
    workers = await Promise.all([1, 2, 3].map(() => startWorkerProcess(workerEnv)));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map(stopWorkerProcess));
  });
}

describe.runIf(redisUp)('backend-bullmq', () => {
  testSchedules(
    'BullMQScheduler, three worker processes',
    () => {
      const store = new RedisStore({ redis: redisUrl, prefix });
      const backend = new BullMQBackend({ connection: redisUrl, queue });
      return {
        store,
        openScheduler: () => backend.scheduler({ store, findTask: (name) => tasks.get(name) }),
        close: async () => {
          // The suite leaves its schedules: stop them, so they load no later test.
          const scheduler = backend.scheduler({ store, findTask: (name) => tasks.get(name) });
          for (const state of await scheduler.list()) await scheduler.delete(state.id);
          await backend.close();
          await store.close();
        },
      };
    },
    { every: 300 },
  );
});

describe.runIf(redisUp)('backend-bullmq schedules', () => {
  // The file's three worker processes (starting them is the slow part); the schedule ids differ from the suite's.
  describe('when three worker processes serve one queue', () => {
    let store: RedisStore;
    let backend: BullMQBackend;
    let scheduler: ComputationScheduler;

    beforeAll(async () => {
      store = new RedisStore({ redis: redisUrl, prefix });
      backend = new BullMQBackend({ connection: redisUrl, queue });
      await backend.bind(store);
      scheduler = backend.scheduler({ store, findTask: (name) => tasks.get(name) });
    });
    afterAll(async () => {
      await scheduler?.close();
      await backend?.close();
      await store?.close();
    });

    it('should run each tick once, with a record that ends completed, and none pending', async () => {
      const state = await scheduler.upsert({
        id: 'every-300',
        task: conformanceTasks.echo.name,
        every: 300,
        args: { hello: 'world' },
        tags: ['nightly'],
        overlap: 'allow',
      });
      expect(state.nextRunAt).toBeGreaterThan(Date.now() - 50);
      expect(state.nextRunAt! % 300).toBe(0);
      await waitFor('six runs', async () =>
        (await runsOf(store, 'every-300')).length >= 6 ? true : undefined,
      );
      await scheduler.delete('every-300');
      // The last run launched may still be finishing.
      const runs = await waitFor('every run to end', async () => {
        const all = await runsOf(store, 'every-300');
        return all.every((run) => run.status === 'completed') ? all : undefined;
      });
      const ticks = runs.map(tickOf);
      for (const [index, tick] of ticks.entries()) {
        expect(tick % 300).toBe(0);
        if (index > 0) expect(tick - ticks[index - 1]!).toBe(300);
      }
      for (const run of runs) {
        expect(run.key).toBe(`every-300:${tickOf(run)}`);
        expect(run.value).toEqual({ hello: 'world' });
        expect(run.tags).toEqual([scheduleTag('every-300'), 'nightly']);
      }
      // Each run executed once (a worker writes its line just after the record).
      const executed = await waitFor('every outcome line', async () => {
        const lines = executions(outcomes);
        return runs.every((run) => lines.has(run.key)) ? lines : undefined;
      });
      for (const run of runs) expect(executed.get(run.key)).toEqual(['completed']);
    });

    it('should lose no tick when a worker process stops and another starts', async () => {
      await scheduler.upsert({
        id: 'restart',
        task: conformanceTasks.echo.name,
        every: 300,
        args: 1,
        // Runs may overlap: a slow run while a worker starts must not skip a tick.
        overlap: 'allow',
      });
      // The replacement loads its modules meanwhile, so it takes jobs as soon as it is told to.
      const [replacement] = await Promise.all([
        preloadWorkerProcess(workerEnv),
        waitFor('a first run', async () => ((await runsOf(store, 'restart')).length >= 1 ? true : undefined)),
      ]);
      await stopWorkerProcess(workers[0]!);
      workers[0] = replacement;
      await goWorkerProcess(replacement);
      const before = (await runsOf(store, 'restart')).length;
      await waitFor('three more runs', async () =>
        (await runsOf(store, 'restart')).length >= before + 3 ? true : undefined,
      );
      await scheduler.delete('restart');
      const ticks = (await runsOf(store, 'restart')).map(tickOf);
      for (let index = 1; index < ticks.length; index++) expect(ticks[index]! - ticks[index - 1]!).toBe(300);
    }, 60_000);

    it('should list, pause, resume and delete schedules', async () => {
      await scheduler.upsert({
        id: 'cron-a',
        task: conformanceTasks.echo.name,
        cron: '0 0 1 1 *',
        timezone: 'Europe/Paris',
        overlap: 'skip',
      });
      await scheduler.upsert({
        id: 'cron-b',
        task: conformanceTasks.echo.name,
        cron: '*/5 * * * *',
        overlap: 'skip',
      });
      expect((await scheduler.list()).map((state) => state.id)).toEqual(
        expect.arrayContaining(['cron-a', 'cron-b']),
      );
      const a = await scheduler.get('cron-a');
      // Midnight of 1 January in Paris is 23:00 UTC the day before.
      expect(new Date(a!.nextRunAt!).toISOString()).toMatch(/-12-31T23:00:00\.000Z$/);
      const paused = await scheduler.pause('cron-a');
      expect(paused).toMatchObject({ paused: true });
      expect(paused?.nextRunAt).toBeUndefined();
      expect(await backend.queue.getJobScheduler('cron-a')).toBeUndefined();
      const resumed = await scheduler.resume('cron-a');
      expect(resumed).toMatchObject({ paused: false, nextRunAt: a!.nextRunAt });
      expect(await scheduler.pause('missing')).toBeUndefined();
      expect(await scheduler.resume('missing')).toBeUndefined();
      expect(await scheduler.delete('cron-a')).toBe(true);
      expect(await scheduler.delete('cron-a')).toBe(false);
      expect(await scheduler.get('cron-a')).toBeUndefined();
      await scheduler.delete('cron-b');
    });

    it('should refuse a bad spec with InvalidScheduleError and store nothing', async () => {
      await expect(
        scheduler.upsert({
          id: 'bad',
          task: conformanceTasks.echo.name,
          cron: 'not a cron',
          overlap: 'skip',
        }),
      ).rejects.toSatisfy(InvalidScheduleError.isInstance);
      await expect(
        scheduler.upsert({ id: 'bad', task: 'no-such-task', every: 1000, overlap: 'skip' }),
      ).rejects.toSatisfy(InvalidScheduleError.isInstance);
      expect(await scheduler.get('bad')).toBeUndefined();
      expect(await backend.queue.getJobScheduler('bad')).toBeUndefined();
    });

    it('should run every tick missed while all the workers were down, once, when they are back', async () => {
      await scheduler.upsert({
        id: 'all-down',
        task: conformanceTasks.echo.name,
        every: 300,
        args: 2,
        overlap: 'allow',
      });
      const [replacements] = await Promise.all([
        Promise.all([1, 2, 3].map(() => preloadWorkerProcess(workerEnv))),
        waitFor('a first run', async () =>
          (await runsOf(store, 'all-down')).length >= 1 ? true : undefined,
        ),
      ]);
      await Promise.all(workers.map(stopWorkerProcess));
      workers = replacements;
      const stoppedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1200));
      await Promise.all(replacements.map(goWorkerProcess));
      // Caught-up ticks are jobs of their own, run by any worker: wait until every tick up
      // to a recent one has its record, completed. A tick that never runs times this out.
      const runs = await waitFor(
        'every tick through the outage to run',
        async () => {
          const all = await runsOf(store, 'all-down');
          const last = all.at(-1);
          const contiguous = all.every(
            (run, index) => index === 0 || tickOf(run) - tickOf(all[index - 1]!) === 300,
          );
          return last !== undefined &&
            tickOf(last) > stoppedAt + 1200 &&
            contiguous &&
            all.every((run) => run.status === 'completed')
            ? all
            : undefined;
        },
        20_000,
      );
      await scheduler.delete('all-down');
      const ticks = runs.map(tickOf);
      // Ticks of the outage (at least four of 300 ms) ran late, each once.
      expect(
        ticks.filter((tick) => tick > stoppedAt && tick < stoppedAt + 1200).length,
      ).toBeGreaterThanOrEqual(3);
      for (let index = 1; index < ticks.length; index++) expect(ticks[index]! - ticks[index - 1]!).toBe(300);
    }, 60_000);

    it("should give a record to each run of a job scheduler made with BullMQ's own API", async () => {
      await backend.queue.upsertJobScheduler(
        'outside-au',
        { every: 250 },
        { name: conformanceTasks.add.name, data: { a: 2, b: 3 } as never },
      );
      const runs = await waitFor('three completed runs', async () => {
        const all = await runsOf(store, 'outside-au');
        return all.filter((run) => run.status === 'completed').length >= 3 ? all : undefined;
      });
      await backend.queue.removeJobScheduler('outside-au');
      for (const run of runs.filter((item) => item.status === 'completed')) {
        expect(run.value).toBe(5);
        expect(run.key).toMatch(/^outside-au:\d+$/);
      }
      // Nothing is left pending once the runs end.
      await waitFor('every run to end', async () =>
        (await runsOf(store, 'outside-au')).every((run) => run.status === 'completed') ? true : undefined,
      );
    });
  });

  describe("when core's schedule() is called with a backend that embeds its worker", () => {
    it('should run the scheduled task on the embedded worker, without task modules', async () => {
      const embeddedQueue = resources.queue('embedded');
      const embeddedPrefix = resources.prefix('embedded');
      const store = new RedisStore({ redis: redisUrl, prefix: embeddedPrefix });
      const backend = new BullMQBackend({ connection: redisUrl, queue: embeddedQueue, worker: { store } });
      try {
        await schedule(conformanceTasks.add, {
          id: 'embedded-add',
          every: 250,
          input: { a: 2, b: 5 },
          store,
          backend,
        });
        const runs = await waitFor('two completed runs', async () => {
          const all = (await runsOf(store, 'embedded-add')).filter((run) => run.status === 'completed');
          return all.length >= 2 ? all : undefined;
        });
        for (const run of runs) expect(run.value).toBe(7);
        expect(await deleteSchedule('embedded-add', { store, backend })).toBe(true);
      } finally {
        await backend.close({ timeout: 1000 });
        await store.close();
      }
    });
  });
});
