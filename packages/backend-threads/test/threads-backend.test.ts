import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  asyncCompute,
  CancelledError,
  ComputationFailedError,
  ConfigError,
  configFromEnv,
  MemoryStore,
  structuredCodec,
  TaskNotFoundError,
} from '@au/core';
import { registerBackendProvider } from '@au/core/kit';
import { conformanceTasksUrl, testBackend, testShortTaskBatches } from '@au/testing';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { backendProvider, ThreadCrashedError, ThreadsBackend } from '../src/index';
import * as tasks from './fixtures/tasks';

const fixtureUrl = new URL('./fixtures/tasks.ts', import.meta.url);

testBackend(
  'ThreadsBackend',
  ({ concurrency, logger, maxQueued }) =>
    new ThreadsBackend({ tasks: [conformanceTasksUrl], concurrency: concurrency ?? 2, logger, maxQueued }),
  {},
);

testShortTaskBatches(
  'ThreadsBackend',
  (options) => new ThreadsBackend({ tasks: [conformanceTasksUrl], concurrency: 2, ...options }),
);

describe('ThreadsBackend', () => {
  const opened: ThreadsBackend[] = [];
  const open = (options: Partial<ConstructorParameters<typeof ThreadsBackend>[0]> = {}) => {
    const backend = new ThreadsBackend({ tasks: [fixtureUrl], concurrency: 2, ...options });
    opened.push(backend);
    return backend;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((backend) => backend.close({ timeout: 2000 })));
  });

  describe('when it is built', () => {
    it('should refuse an empty list of task modules', () => {
      expect(() => new ThreadsBackend({ tasks: [] })).toThrow(/`tasks` is empty/);
    });

    it('should refuse a maxBatch that is not an integer ≥ 1', () => {
      expect(() => new ThreadsBackend({ tasks: [fixtureUrl], maxBatch: 0 })).toThrow(
        /maxBatch must be an integer ≥ 1, got 0/,
      );
      expect(() => new ThreadsBackend({ tasks: [fixtureUrl], maxBatch: 2.5 })).toThrow(
        /maxBatch must be an integer ≥ 1/,
      );
    });

    it('should refuse an unknown option with a TypeError naming it', () => {
      const misspelled = { tasks: [fixtureUrl], concurency: 2 } as never;
      expect(() => new ThreadsBackend(misspelled)).toThrow(TypeError);
      expect(() => new ThreadsBackend(misspelled)).toThrow(
        /ThreadsBackend: unknown option "concurency" \(did you mean "concurrency"\?\)/,
      );
      expect(
        () => new ThreadsBackend({ tasks: [fixtureUrl], minThreads: 0, cron: '* * * * *' } as never),
      ).toThrow(/unknown option "cron"/);
    });

    it('should refuse a concurrency below 1', () => {
      expect(() => new ThreadsBackend({ tasks: [fixtureUrl], concurrency: 0 })).toThrow(/concurrency/);
    });

    it('should report its capabilities', () => {
      expect(open().capabilities).toEqual({
        inlineFunctions: false,
        durable: false,
        priority: true,
        preemptiveCancel: true,
      });
    });
  });

  describe('when a task is not in its modules', () => {
    it('should reject the launch with TaskNotFoundError naming the task', async () => {
      const store = new MemoryStore();
      const inline = asyncCompute((x: number) => x + 1, { store, backend: open() });
      const error = await inline(1).catch((caught: unknown) => caught);
      expect(TaskNotFoundError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/task "inline:.*" is not in this backend's task modules/);
      expect((error as Error).message).toContain('threads-test.double');
    });

    it('should reject launches when a task module cannot be loaded', async () => {
      const backend = open({ tasks: [new URL('./fixtures/missing.ts', import.meta.url)] });
      await expect(backend.ping()).rejects.toThrow(/cannot load task module/);
      const double = asyncCompute(tasks.double, { store: new MemoryStore(), backend });
      await expect(double(2)).rejects.toThrow(/cannot load task module/);
    });
  });

  describe('when a task never yields', () => {
    it('should stop a busy loop within 1 s of a cancel and keep serving', async () => {
      const store = new MemoryStore();
      const backend = open({ concurrency: 1, cancelGracePeriod: 100 });
      const busy = asyncCompute(tasks.busyLoop, { store, backend });
      const double = asyncCompute(tasks.double, { store, backend });
      const heartbeat = heartbeatFile();
      const spinning = await busy({ ms: 60_000, heartbeatFile: heartbeat.path });
      await waitFor(() => heartbeat.read() !== undefined);
      const cancelledAt = Date.now();
      expect(await spinning.cancel('stop spinning')).toBe(true);
      // The slot frees only once the busy thread is gone (terminated after the grace period).
      await waitFor(() => backend.runningCount === 0, 10_000);
      const lastBeat = heartbeat.read()!;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heartbeat.read(), 'the loop should not beat any more').toBe(lastBeat);
      expect(lastBeat - cancelledAt, 'the loop should stop within 1 s of the cancel').toBeLessThan(1000);
      expect(await spinning.status()).toBe('cancelled');
      expect((await spinning.record()).error?.message).toContain('stop spinning');
      // One thread: this runs on the replacement thread.
      const next = await double(21);
      expect(await next.result({ timeout: 15_000 })).toBe(42);
      const more = await Promise.all([1, 2, 3].map((n) => double(n)));
      expect(await Promise.all(more.map((handle) => handle.result({ timeout: 15_000 })))).toEqual([2, 4, 6]);
    });

    it('should stop a busy loop within 1 s of its timeout', async () => {
      const store = new MemoryStore();
      const backend = open({ concurrency: 1 });
      // A warm thread, so that the loop starts well within its 1.5 s.
      const double = asyncCompute(tasks.double, { store, backend });
      expect(await (await double(1)).result({ timeout: 15_000 })).toBe(2);
      const busy = asyncCompute(tasks.busyLoop, { store, backend, timeout: 1500 });
      const heartbeat = heartbeatFile();
      const handle = await busy({ ms: 60_000, heartbeatFile: heartbeat.path });
      const error = await handle.result({ timeout: 10_000 }).catch((caught: unknown) => caught);
      expect(ComputationFailedError.isInstance(error)).toBe(true);
      expect((error as ComputationFailedError).remoteName).toBe('TimeoutError');
      const timedOutAt = (await handle.record()).finishedAt!;
      await waitFor(() => backend.runningCount === 0, 10_000);
      const lastBeat = heartbeat.read()!;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heartbeat.read(), 'the loop should not beat any more').toBe(lastBeat);
      expect(lastBeat - timedOutAt, 'the loop should stop within 1 s of the timeout').toBeLessThan(1000);
    });

    it.each([
      ['while it runs', true],
      ['while its thread may still be starting', false],
    ])(
      'should let a cooperative task stop on its signal %s, before the grace period ends',
      async (_when, waitUntilRunning) => {
        const store = new MemoryStore();
        const backend = open({ cancelGracePeriod: 5000, progressInterval: 1 });
        const wait = asyncCompute(tasks.waitForAbort, { store, backend });
        const handle = await wait(undefined);
        if (waitUntilRunning) await waitFor(async () => (await handle.progress()) === 'waiting');
        else await waitFor(async () => (await handle.status()) === 'running');
        const cancelledAt = Date.now();
        expect(await handle.cancel('enough')).toBe(true);
        // The task rejects on its signal, so its thread is free long before the 5 s grace period.
        await waitFor(() => backend.runningCount === 0, 4000);
        expect(Date.now() - cancelledAt).toBeLessThan(4000);
        await expect(handle.result({ timeout: 1000 })).rejects.toSatisfy(CancelledError.isInstance);
      },
    );
  });

  describe('when a task crashes its thread', () => {
    it.each([
      ['process.exit', tasks.exitThread, /crashed its worker thread: the thread exited with code 1/],
      ['an error thrown in a timer', tasks.throwInTimer, /uncaught RangeError: kaboom from a timer/],
    ] as const)('should fail the computation on %s and recover', async (_what, task, message) => {
      const store = new MemoryStore();
      const backend = open({ concurrency: 1 });
      const crash = asyncCompute(task, { store, backend });
      const handle = await crash(undefined);
      const error = await handle.result({ timeout: 15_000 }).catch((caught: unknown) => caught);
      expect(ComputationFailedError.isInstance(error)).toBe(true);
      expect((error as ComputationFailedError).remoteName).toBe('ThreadCrashedError');
      expect((error as ComputationFailedError).remoteMessage).toMatch(message);
      expect((error as ComputationFailedError).remoteMessage).toContain(`task "${task.name}"`);
      expect(await handle.status()).toBe('failed');
      const double = asyncCompute(tasks.double, { store, backend });
      const next = await Promise.all([5, 6].map((n) => double(n)));
      expect(await Promise.all(next.map((h) => h.result({ timeout: 15_000 })))).toEqual([10, 12]);
    });

    it('should name the error ThreadCrashedError', () => {
      const error = new ThreadCrashedError({
        task: 't',
        key: 'k',
        cause: new Error('worker exited with code: 3'),
      });
      expect(ThreadCrashedError.isInstance(error)).toBe(true);
      expect(error.message).toContain('the thread exited with code 3');
    });
  });

  describe('when a task reports progress and logs', () => {
    it('should write progress from the thread to the store and forward log lines', async () => {
      const store = new MemoryStore();
      const lines: unknown[][] = [];
      const logger = {
        debug: () => {},
        info: (...args: unknown[]) => lines.push(args),
        warn: () => {},
        error: () => {},
      };
      const backend = open({ progressInterval: 10 });
      const report = asyncCompute(tasks.report, { store, backend, logger });
      const handle = await report({ values: ['a', 'b', 'c', 'd'] });
      const seen: unknown[] = [];
      for await (const event of handle.events()) if (event.type === 'progress') seen.push(event.progress);
      expect(await handle.result({ timeout: 10_000 })).toBe(4);
      expect(await handle.progress()).toBe('d');
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen[seen.length - 1]).toBe('d');
      expect(lines).toContainEqual([{ count: 4 }, 'reporting']);
    });
  });

  describe('when values are not plain JSON', () => {
    it('should carry them with the structured codec both ways', async () => {
      const store = new MemoryStore();
      const rich = asyncCompute(tasks.richValues, { store, backend: open() });
      const handle = await rich({ when: new Date(0), tags: new Set(['x']) });
      const value = await handle.result({ timeout: 10_000 });
      expect(value.when).toEqual(new Date(0));
      expect(value.tags).toEqual(new Set(['x']));
      expect(value.big).toBe(2n ** 70n);
      expect(value.map.get('a')).toBe(1);
      const stored = await store.get(handle.key);
      expect(structuredCodec.decode(stored?.value)).toEqual(value);
    });
  });

  describe('when closed with work still running', () => {
    it('should stop it after the timeout and mark it cancelled', async () => {
      const store = new MemoryStore();
      const backend = open({ concurrency: 1, cancelGracePeriod: 50 });
      const busy = asyncCompute(tasks.busyLoop, { store, backend });
      const running = await busy({ ms: 60_000 });
      const queued = await busy({ ms: 1 });
      await waitFor(async () => (await running.status()) === 'running');
      const started = Date.now();
      await backend.close({ timeout: 100 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await running.status()).toBe('cancelled');
      expect(await queued.status()).toBe('cancelled');
      await expect(backend.ping()).rejects.toThrow(/closed/);
    });
  });

  describe('when configured from the environment', () => {
    it('should build a ThreadsBackend for AU_BACKEND=threads', async () => {
      registerBackendProvider(backendProvider);
      const config = await configFromEnv({
        env: { AU_BACKEND: 'threads', AU_TASKS: fixtureUrl.href, AU_CONCURRENCY: '1' },
      });
      try {
        expect(config.backend).toBeInstanceOf(ThreadsBackend);
        expect((config.backend as ThreadsBackend).concurrency).toBe(1);
        const double = asyncCompute(tasks.double, { store: config.store, backend: config.backend });
        expect(await (await double(4)).result({ timeout: 10_000 })).toBe(8);
      } finally {
        await config.close();
      }
    });

    it('should refuse AU_BACKEND=threads without task modules', async () => {
      const error = await Promise.resolve()
        .then(() =>
          backendProvider.create({
            value: 'threads',
            env: {},
            store: new MemoryStore(),
            concurrency: undefined,
            taskModules: [],
            tasks: undefined as never,
          }),
        )
        .catch((caught: unknown) => caught);
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('AU_TASKS');
    });
  });
});

/** A temporary file a busy loop writes `Date.now()` to; removed after the test. */
function heartbeatFile(): { path: string; read(): number | undefined } {
  const path = join(tmpdir(), `au-threads-${randomUUID()}.beat`);
  onTestFinished(() => {
    rmSync(path, { force: true });
    rmSync(`${path}.tmp`, { force: true });
  });
  return {
    path,
    read() {
      try {
        const beat = Number(readFileSync(path, 'utf8'));
        return beat > 0 ? beat : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
