import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ComputationRecord,
  type ComputationScheduler,
  type ComputationStore,
  InvalidScheduleError,
  type ScheduleSpec,
  scheduleTag,
} from '@au/core';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { echoTask, traceTask } from './conformance-tasks';
import { caseDeclarer } from './internal/case';
import { uniqueId } from './internal/unique';
import { delay, waitUntil } from './internal/wait-until';

/**
 * One test's world for `testSchedules`: a store and whatever runs the work (a backend,
 * queue workers), shared by every scheduler the test opens.
 */
export interface ScheduleEnvironment {
  /** Where the runs' records go. */
  store: ComputationStore;
  /**
   * Opens one more scheduler over the environment, as another worker or server process
   * would: it keeps schedules where the others see them and fires ticks. It must know
   * the conformance tasks (`conformanceTasks`, `conformanceTasksUrl`). The suite closes
   * each scheduler it opened before `close`.
   */
  openScheduler(): ComputationScheduler | Promise<ComputationScheduler>;
  /** Closes what the environment opened (backends, workers, the store). */
  close(): Promise<void>;
}

/** What `testSchedules` checks. Every flag is optional. */
export interface TestSchedulesFlags {
  /** Run the `overlap: 'queue'` case. @default true */
  queue?: boolean;
  /** Milliseconds between ticks in the firing cases. @default 300 */
  every?: number;
  /** Case ids (the `[id]` at the end of each title) or full titles to skip. */
  skip?: string[];
  /** Multiplies every wait and time limit. @default 1 */
  timeoutScale?: number;
  /** Implementation-specific tests, declared inside the suite's `describe`. */
  extra?: (getEnvironment: () => ScheduleEnvironment) => void;
}

/**
 * The conformance suite every `ComputationScheduler` passes (core's `StoreScheduler`
 * over each store, and the schedulers of the BullMQ and Postgres backends):
 * `testSchedules('StoreScheduler over MemoryStore', () => ({ store, openScheduler, close }))`.
 * It checks one run per tick with three schedulers firing at once, no tick lost when a
 * scheduler restarts within the catch-up window, the overlap policies, pause and resume,
 * and that bad input is refused with `InvalidScheduleError` and stores nothing.
 */
export function testSchedules(
  name: string,
  makeEnvironment: () => ScheduleEnvironment | Promise<ScheduleEnvironment>,
  flags: TestSchedulesFlags = {},
): void {
  const scale = flags.timeoutScale ?? 1;
  const every = flags.every ?? 300;
  const test = caseDeclarer(flags.skip);
  describe(`testSchedules(${name})`, () => {
    let environment: ScheduleEnvironment | undefined;
    let schedulers: ComputationScheduler[] = [];
    const files: string[] = [];
    const getEnvironment = (): ScheduleEnvironment => {
      if (environment === undefined) throw new Error('[au] [testing] the environment is made in beforeEach');
      return environment;
    };
    const open = async (): Promise<ComputationScheduler> => {
      const scheduler = await getEnvironment().openScheduler();
      schedulers.push(scheduler);
      return scheduler;
    };
    const close = async (scheduler: ComputationScheduler): Promise<void> => {
      schedulers = schedulers.filter((item) => item !== scheduler);
      await scheduler.close();
    };
    /** A file the trace task appends one line to per execution. */
    const traceFile = (): string => {
      const file = join(tmpdir(), `${uniqueId('au-schedule')}.trace`);
      files.push(file);
      return file;
    };
    const spec = (overrides: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
      id: uniqueId('schedule'),
      task: echoTask.name,
      every,
      args: { hello: 'schedule' },
      // Runs may overlap unless a case says otherwise: a slow first start must not skip a tick.
      overlap: 'allow',
      catchUp: 30_000,
      ...overrides,
    });
    /** The schedule's runs, oldest tick first. */
    const runs = async (id: string): Promise<ComputationRecord[]> => {
      const { records } = await getEnvironment().store.list({ tag: scheduleTag(id), limit: 1000 });
      return records.sort((a, b) => tickOf(a.key) - tickOf(b.key));
    };
    const waitForRuns = (id: string, count: number, status?: 'completed') =>
      waitUntil(
        async () => {
          const found = (await runs(id)).filter((record) => status === undefined || record.status === status);
          return found.length >= count ? found : undefined;
        },
        { timeout: (count * every * 4 + 5000) * scale, interval: 25, message: `${count} runs of ${id}` },
      );

    beforeEach(async () => {
      environment = await makeEnvironment();
    });
    afterEach(async () => {
      await Promise.all(schedulers.splice(0).map((scheduler) => scheduler.close()));
      await environment?.close();
      environment = undefined;
      for (const file of files.splice(0)) rmSync(file, { force: true });
    });

    test('upsert, get, list, pause, resume and delete keep the schedule', 'crud', async () => {
      const scheduler = await open();
      const made = spec({ every: 60_000, tags: ['nightly'] });
      const state = await scheduler.upsert(made);
      expect(state).toMatchObject({
        id: made.id,
        task: made.task,
        every: 60_000,
        paused: false,
        tags: ['nightly'],
      });
      expect(state.nextRunAt).toBeGreaterThan(Date.now() - 1000);
      expect(await scheduler.get(made.id)).toMatchObject({ id: made.id, paused: false });
      expect((await scheduler.list()).map((item) => item.id)).toContain(made.id);
      expect(await scheduler.pause(made.id)).toMatchObject({ paused: true });
      expect(await scheduler.get(made.id)).toMatchObject({ paused: true });
      expect(await scheduler.resume(made.id)).toMatchObject({ paused: false });
      const cron = await scheduler.upsert({
        ...made,
        every: undefined,
        cron: '0 9 * * 1',
        timezone: 'Europe/Paris',
      });
      expect(cron).toMatchObject({ cron: '0 9 * * 1', timezone: 'Europe/Paris' });
      expect(new Date(cron.nextRunAt!).getUTCDay()).toBe(1);
      expect(await scheduler.delete(made.id)).toBe(true);
      expect(await scheduler.get(made.id)).toBeUndefined();
      expect(await scheduler.delete(made.id)).toBe(false);
      expect(await scheduler.pause(made.id)).toBeUndefined();
      expect(await scheduler.resume(made.id)).toBeUndefined();
    });

    test('bad input is refused with InvalidScheduleError and stores nothing', 'refused', async () => {
      const scheduler = await open();
      const cases: [string, Partial<ScheduleSpec>][] = [
        ['cron', { every: undefined, cron: 'every tuesday' }],
        ['cron', { every: undefined, cron: '61 * * * *' }],
        ['timezone', { every: undefined, cron: '* * * * *', timezone: 'Mars/Olympus' }],
        ['cron/every', { every: undefined }],
        ['every', { every: 5 }],
        ['task', { task: uniqueId('no-such-task') }],
        ['id', { id: 'a/../b' }],
        ['overlap', { overlap: 'sometimes' as never }],
      ];
      for (const [field, overrides] of cases) {
        const bad = spec(overrides);
        const error = await scheduler.upsert(bad).catch((caught: unknown) => caught);
        expect(InvalidScheduleError.isInstance(error), `${field}: ${String(error)}`).toBe(true);
        expect((error as InvalidScheduleError).field).toBe(field);
        if (field !== 'id') expect(await scheduler.get(bad.id)).toBeUndefined();
      }
      const ids = (await scheduler.list()).map((item) => item.id);
      for (const [, overrides] of cases)
        if (overrides.id !== undefined) expect(ids).not.toContain(overrides.id);
    });

    test(
      'three schedulers firing at once make one run per tick, each run once',
      'one-run-per-tick',
      async () => {
        const [first] = await Promise.all([open(), open(), open()]);
        const file = traceFile();
        const made = spec({ task: traceTask.name, args: { file } });
        await first!.upsert(made);
        const done = await waitForRuns(made.id, 4, 'completed');
        // Every tick up to now has its run (some may not have ended yet).
        expectConsecutive(
          (await runs(made.id)).map((record) => tickOf(record.key)),
          every,
        );
        const lines = readLines(file);
        // Each run executed once: one line per key, for every run that completed.
        for (const record of done)
          expect(lines.filter((line) => line.startsWith(`${record.key} `))).toHaveLength(1);
      },
      { timeout: 30_000 * scale },
    );

    test(
      'a scheduler restarted within the catch-up window loses no tick',
      'restart',
      async () => {
        let scheduler = await open();
        const made = spec();
        await scheduler.upsert(made);
        const before = await waitForRuns(made.id, 2);
        await close(scheduler);
        await delay(every * 3);
        scheduler = await open();
        const after = await waitUntil(
          async () => {
            const found = await runs(made.id);
            const last = found.at(-1);
            return last !== undefined &&
              tickOf(last.key) > Date.now() - every &&
              found.length >= before.length + 3
              ? found
              : undefined;
          },
          { timeout: 15_000 * scale, interval: 25, message: 'runs after the restart' },
        );
        expectConsecutive(
          after.map((record) => tickOf(record.key)),
          every,
        );
      },
      { timeout: 30_000 * scale },
    );

    test(
      "overlap 'skip' drops a tick while the previous run is active",
      'overlap-skip',
      async () => {
        await Promise.all([open(), open()]);
        const file = traceFile();
        const made = spec({ task: traceTask.name, args: { file, ms: every * 1.6 }, overlap: 'skip' });
        await schedulers[0]!.upsert(made);
        const done = await waitForRuns(made.id, 3, 'completed');
        expectNoOverlap(done.slice(0, 3));
        const ticks = done.slice(0, 3).map((record) => tickOf(record.key));
        // A run lasts longer than the interval: the tick after each run's start is skipped.
        for (let index = 1; index < ticks.length; index++) {
          expect(ticks[index]! - ticks[index - 1]!).toBeGreaterThanOrEqual(2 * every);
        }
      },
      { timeout: 30_000 * scale },
    );

    test(
      "overlap 'queue' runs every tick, one after the other",
      'overlap-queue',
      async () => {
        await Promise.all([open(), open()]);
        const file = traceFile();
        const made = spec({ task: traceTask.name, args: { file, ms: every * 1.6 }, overlap: 'queue' });
        await schedulers[0]!.upsert(made);
        const done = await waitForRuns(made.id, 3, 'completed');
        expectNoOverlap(done.slice(0, 3));
        expectConsecutive(
          done.slice(0, 3).map((record) => tickOf(record.key)),
          every,
        );
      },
      { timeout: 30_000 * scale, when: flags.queue !== false },
    );

    test(
      'a paused schedule fires nothing until it is resumed',
      'pause',
      async () => {
        const scheduler = await open();
        const made = spec();
        await scheduler.upsert(made);
        await waitForRuns(made.id, 1);
        await scheduler.pause(made.id);
        // A tick being fired as the pause lands may still make its run.
        await delay(every * 1.5);
        const paused = (await runs(made.id)).length;
        await delay(every * 3);
        expect(await runs(made.id)).toHaveLength(paused);
        await scheduler.resume(made.id);
        await waitForRuns(made.id, paused + 1);
      },
      { timeout: 30_000 * scale },
    );

    flags.extra?.(getEnvironment);
  });
}

/** The tick time in a run's key (`<id>:<tick>`). */
function tickOf(key: string): number {
  return Number(key.slice(key.lastIndexOf(':') + 1));
}

function expectConsecutive(ticks: number[], every: number): void {
  expect(ticks.length).toBeGreaterThan(1);
  for (let index = 1; index < ticks.length; index++) {
    expect(ticks[index]! - ticks[index - 1]!, `ticks ${ticks.join(', ')}`).toBe(every);
  }
}

/** Each run started after the one before it finished. */
function expectNoOverlap(records: ComputationRecord[]): void {
  for (let index = 1; index < records.length; index++) {
    expect(records[index]!.startedAt!).toBeGreaterThanOrEqual(records[index - 1]!.finishedAt!);
  }
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
