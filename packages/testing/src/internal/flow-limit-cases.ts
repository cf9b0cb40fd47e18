import type { ComputationBackend } from '@au/core';
import { describe, expect } from 'vitest';
import { conformanceTasks } from '../conformance-tasks';
import type { BackendSuite } from './backend-suite';
import { maxOverlap } from './max-overlap';
import { uniqueId } from './unique';
import { delay } from './wait-until';

/**
 * How far apart two record `startedAt`s may fall short of the rate limit's window: the
 * backend admits a start, then the executor stamps it, a few ms later and not always
 * equally late (scaled by `timeoutScale`).
 */
const START_SKEW = 150;

/**
 * The flow-limit cases of `testBackend`: concurrency keys (a per-key limit, a task-wide
 * mutex), rate limits and pause. The limits come from the conformance tasks' own
 * definitions (`keyed`, `mutex`, `rateLimited`); a backend without `pause` skips the
 * pause cases. Declared inside the suite's `describe`.
 */
export function flowLimitCases(suite: BackendSuite): void {
  const { test, scale, background } = suite;

  describe('when a task limits its concurrency', () => {
    test(
      'concurrency-key',
      'should run at most `limit` computations of one key at once, and other keys beside them',
      async () => {
        // Room for both keys at their limit (2 each) and more: only the keys hold work back.
        const backend = await suite.getBackend({ concurrency: 6 });
        // Workers started first (a pool starts them as work arrives), so that a slow start
        // of one cannot keep two computations of a key from overlapping.
        await Promise.all(
          Array.from({ length: 6 }, async () =>
            (await suite.launch(backend, conformanceTasks.sleep, { ms: 200 })).result({
              timeout: 60_000 * scale,
            }),
          ),
        );
        const groups = [uniqueId('ka'), uniqueId('kb')];
        const handles = await Promise.all(
          Array.from({ length: 12 }, (_, index) =>
            suite.launch(backend, conformanceTasks.keyed, {
              id: `k${index}`,
              group: groups[index % 2]!,
              ms: 500,
            }),
          ),
        );
        const stamps = await Promise.all(handles.map((handle) => handle.result({ timeout: 60_000 * scale })));
        for (const group of groups) {
          const ofGroup = stamps.filter((stamp) => stamp.group === group);
          expect(ofGroup).toHaveLength(6);
          expect(maxOverlap(ofGroup), `most computations of key ${group} running at once`).toBe(2);
        }
        expect(maxOverlap(stamps), 'the two keys should run beside each other').toBeGreaterThan(2);
        const record = await handles[1]!.record();
        expect(record.status).toBe('completed');
        expect(record.meta?.concurrencyKey).toBe(`${conformanceTasks.keyed.name}:${groups[1]}`);
      },
      { when: background, timeout: 90_000 * scale },
    );

    test(
      'concurrency-mutex',
      'should run one computation at a time of a task with a task-wide limit of 1',
      async () => {
        const backend = await suite.getBackend({ concurrency: 4 });
        const handles = await Promise.all(
          Array.from({ length: 5 }, (_, index) =>
            suite.launch(backend, conformanceTasks.mutex, { id: `m${index}`, ms: 150 }),
          ),
        );
        const stamps = await Promise.all(handles.map((handle) => handle.result({ timeout: 60_000 * scale })));
        expect(stamps.map((stamp) => stamp.id).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
        expect(maxOverlap(stamps)).toBe(1);
      },
      { when: background, timeout: 90_000 * scale },
    );
  });

  describe('when a task limits its rate', () => {
    test(
      'rate-limit',
      'should delay starts past `limit` per `interval`, never refuse or fail them',
      async () => {
        const backend = await suite.getBackend({ concurrency: 4 });
        const group = uniqueId('rate');
        const { limit, interval } = conformanceTasks.rateLimited.rateLimit!;
        const handles = await Promise.all(
          Array.from({ length: 7 }, (_, index) =>
            suite.launch(backend, conformanceTasks.rateLimited, { id: `r${index}`, group }),
          ),
        );
        const results = await Promise.all(
          handles.map((handle) => handle.result({ timeout: 60_000 * scale })),
        );
        expect(results.map((result) => result.id)).toEqual(handles.map((_, index) => `r${index}`));
        const records = await Promise.all(handles.map((handle) => handle.record()));
        for (const record of records) {
          expect(record.status).toBe('completed');
          expect(record.attempt).toBe(1);
        }
        const starts = records.map((record) => record.startedAt!).sort((a, b) => a - b);
        // No window of `interval` ms holds more than `limit` starts: any `limit + 1`
        // consecutive starts span at least the window.
        for (let index = 0; index + limit < starts.length; index++) {
          expect(
            starts[index + limit]! - starts[index]!,
            `starts ${index} to ${index + limit} (of ${starts.join(', ')})`,
          ).toBeGreaterThanOrEqual(interval - START_SKEW * scale);
        }
      },
      { when: background, timeout: 90_000 * scale },
    );
  });

  describe('when paused', () => {
    const pausable = (backend: ComputationBackend, context: { skip(note?: string): void }) => {
      if (backend.pause === undefined || backend.resume === undefined || backend.paused === undefined)
        context.skip(`${backend.name} cannot pause`);
    };

    test(
      'pause-task',
      'should keep work of a paused task pending while other tasks run, and run it on resume',
      async (context) => {
        const backend = await suite.getBackend();
        pausable(backend, context);
        const echo = conformanceTasks.echo.name;
        await backend.pause!(echo);
        await backend.pause!(echo);
        expect(await backend.paused!()).toEqual({ queue: false, tasks: [echo] });
        const held = await suite.launch(backend, conformanceTasks.echo, 'held');
        const other = await suite.launch(backend, conformanceTasks.add, { a: 1, b: 2 });
        expect(await other.result({ timeout: 10_000 * scale })).toBe(3);
        await delay(300 * scale);
        expect(await held.status()).toBe('pending');
        await backend.resume!(echo);
        expect(await held.result({ timeout: 10_000 * scale })).toBe('held');
        expect(await backend.paused!()).toEqual({ queue: false, tasks: [] });
      },
      { when: background, timeout: 30_000 * scale },
    );

    test(
      'pause-queue',
      'should let running work finish, keep every launch pending while the queue is paused, and run them on resume',
      async (context) => {
        const backend = await suite.getBackend();
        pausable(backend, context);
        const running = await suite.launch(backend, conformanceTasks.sleep, { ms: 400 });
        await suite.waitForStatus(running.key, ['running']);
        await backend.pause!();
        expect(await backend.paused!()).toEqual({ queue: true, tasks: [] });
        const echo = await suite.launch(backend, conformanceTasks.echo, 'after');
        const add = await suite.launch(backend, conformanceTasks.add, { a: 2, b: 3 });
        expect(await running.result({ timeout: 10_000 * scale })).toEqual({ slept: 400 });
        await delay(300 * scale);
        expect([await echo.status(), await add.status()]).toEqual(['pending', 'pending']);
        await backend.resume!();
        expect(await echo.result({ timeout: 10_000 * scale })).toBe('after');
        expect(await add.result({ timeout: 10_000 * scale })).toBe(5);
        expect(await backend.paused!()).toEqual({ queue: false, tasks: [] });
      },
      { when: background, timeout: 30_000 * scale },
    );
  });
}
