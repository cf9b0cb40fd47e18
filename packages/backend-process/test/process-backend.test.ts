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
import { backendProvider, ProcessBackend, ProcessCrashedError } from '../src/index';
import * as tasks from './fixtures/tasks';

const fixtureUrl = new URL('./fixtures/tasks.ts', import.meta.url);

testBackend(
  'ProcessBackend',
  ({ concurrency, logger, maxQueued }) =>
    new ProcessBackend({ tasks: [conformanceTasksUrl], concurrency: concurrency ?? 1, logger, maxQueued }),
  { manyCount: 300, timeoutScale: 2 },
);

testShortTaskBatches(
  'ProcessBackend',
  (options) => new ProcessBackend({ tasks: [conformanceTasksUrl], concurrency: 2, ...options }),
);

describe('ProcessBackend', () => {
  const opened: ProcessBackend[] = [];
  const open = (options: Partial<ConstructorParameters<typeof ProcessBackend>[0]> = {}) => {
    const backend = new ProcessBackend({ tasks: [fixtureUrl], concurrency: 1, ...options });
    opened.push(backend);
    return backend;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((backend) => backend.close({ timeout: 2000 })));
  });

  describe('when it is built', () => {
    it('should refuse an empty list of task modules', () => {
      expect(() => new ProcessBackend({ tasks: [] })).toThrow(/`tasks` is empty/);
    });

    it('should refuse a maxBatch that is not an integer ≥ 1', () => {
      expect(() => new ProcessBackend({ tasks: [fixtureUrl], maxBatch: 0 })).toThrow(
        /maxBatch must be an integer ≥ 1, got 0/,
      );
      expect(() => new ProcessBackend({ tasks: [fixtureUrl], maxBatch: 2.5 })).toThrow(
        /maxBatch must be an integer ≥ 1/,
      );
    });

    it('should refuse an unknown option with a TypeError naming it', () => {
      const misspelled = { tasks: [fixtureUrl], concurency: 2 } as never;
      expect(() => new ProcessBackend(misspelled)).toThrow(TypeError);
      expect(() => new ProcessBackend(misspelled)).toThrow(
        /ProcessBackend: unknown option "concurency" \(did you mean "concurrency"\?\)/,
      );
      expect(
        () => new ProcessBackend({ tasks: [fixtureUrl], minProcesses: 0, cron: '* * * * *' } as never),
      ).toThrow(/unknown option "cron"/);
    });

    it('should refuse a concurrency below 1', () => {
      expect(() => new ProcessBackend({ tasks: [fixtureUrl], concurrency: 1.5 })).toThrow(/concurrency/);
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
      const inline = asyncCompute((x: number) => x + 1, { store: new MemoryStore(), backend: open() });
      const error = await inline(1).catch((caught: unknown) => caught);
      expect(TaskNotFoundError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/task "inline:.*" is not in this backend's task modules/);
      expect((error as Error).message).toContain('process-test.double');
    });

    it('should reject launches when a task module cannot be loaded', async () => {
      const backend = open({ tasks: [new URL('./fixtures/missing.ts', import.meta.url)] });
      await expect(backend.ping()).rejects.toThrow(/cannot load task module/);
      const double = asyncCompute(tasks.double, { store: new MemoryStore(), backend });
      await expect(double(2)).rejects.toThrow(/cannot load task module/);
    });
  });

  describe('when a task is cancelled or times out', () => {
    it('should kill a busy loop within 1 s of a cancel and run the next task in a new process', async () => {
      const store = new MemoryStore();
      const backend = open({ cancelGracePeriod: 100 });
      const pid = asyncCompute(tasks.pid, { store, backend });
      const firstPid = await (await pid(undefined)).result({ timeout: 15_000 });
      const busy = asyncCompute(tasks.busyLoop, { store, backend });
      const heartbeat = heartbeatFile();
      const spinning = await busy({ ms: 60_000, heartbeatFile: heartbeat.path });
      await waitFor(() => heartbeat.read());
      const cancelledAt = Date.now();
      expect(await spinning.cancel('stop spinning')).toBe(true);
      // The slot frees only once the process is gone (SIGTERM cannot run a handler in a busy loop: SIGKILL).
      await waitFor(() => backend.runningCount === 0, 10_000);
      expect(isAlive(firstPid)).toBe(false);
      const lastBeat = heartbeat.read()!;
      expect(lastBeat - cancelledAt, 'the loop should stop within 1 s of the cancel').toBeLessThan(1000);
      expect((await spinning.record()).error?.message).toContain('stop spinning');
      const nextPid = await (await pid(undefined)).result({ timeout: 15_000 });
      expect(nextPid).not.toBe(firstPid);
    });

    it('should SIGKILL a process that ignores SIGTERM after the grace period', async () => {
      const store = new MemoryStore();
      const backend = open({ cancelGracePeriod: 300 });
      const stubborn = asyncCompute(tasks.ignoreSigterm, { store, backend, timeout: 60_000 });
      const handle = await stubborn(undefined);
      const childPid = (await waitFor(async () => (await handle.progress()) as number | undefined)) as number;
      expect(isAlive(childPid)).toBe(true);
      const cancelledAt = Date.now();
      expect(await handle.cancel()).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 150));
      // SIGTERM arrived and was ignored: the process lives on through the grace period.
      expect(isAlive(childPid)).toBe(true);
      await waitFor(() => !isAlive(childPid), 5000);
      expect(Date.now() - cancelledAt).toBeGreaterThanOrEqual(250);
      expect(Date.now() - cancelledAt).toBeLessThan(3000);
      expect(await handle.status()).toBe('cancelled');
      const double = asyncCompute(tasks.double, { store, backend });
      expect(await (await double(4)).result({ timeout: 15_000 })).toBe(8);
    });

    it('should fail a busy loop with TimeoutError and kill it within 1 s', async () => {
      const store = new MemoryStore();
      const backend = open();
      // A warm process, so that the loop starts well within its 1.5 s.
      const pid = asyncCompute(tasks.pid, { store, backend });
      const childPid = await (await pid(undefined)).result({ timeout: 15_000 });
      const busy = asyncCompute(tasks.busyLoop, { store, backend, timeout: 1500 });
      const heartbeat = heartbeatFile();
      const handle = await busy({ ms: 60_000, heartbeatFile: heartbeat.path });
      const error = await handle.result({ timeout: 20_000 }).catch((caught: unknown) => caught);
      expect(ComputationFailedError.isInstance(error)).toBe(true);
      expect((error as ComputationFailedError).remoteName).toBe('TimeoutError');
      const timedOutAt = (await handle.record()).finishedAt!;
      await waitFor(() => backend.runningCount === 0, 10_000);
      expect(isAlive(childPid)).toBe(false);
      expect(heartbeat.read()! - timedOutAt, 'the loop should stop within 1 s of the timeout').toBeLessThan(
        1000,
      );
    });

    it('should abort the signal of a cooperative task, which ends before SIGKILL', async () => {
      const store = new MemoryStore();
      const backend = open({ cancelGracePeriod: 5000, progressInterval: 1 });
      const wait = asyncCompute(tasks.waitForAbort, { store, backend });
      const handle = await wait(undefined);
      await waitFor(async () => (await handle.progress()) === 'waiting');
      const cancelledAt = Date.now();
      expect(await handle.cancel('enough')).toBe(true);
      await waitFor(() => backend.runningCount === 0, 4000);
      expect(Date.now() - cancelledAt).toBeLessThan(4000);
      await expect(handle.result({ timeout: 1000 })).rejects.toSatisfy(CancelledError.isInstance);
    });
  });

  describe('when a task crashes its process', () => {
    it.each([
      ['process.exit', tasks.exitProcess, /crashed its worker process: the process exited with code 3/],
      ['an error thrown in a timer', tasks.throwInTimer, /uncaught RangeError: kaboom from a timer/],
    ] as const)('should fail the computation on %s and recover', async (_what, task, message) => {
      const store = new MemoryStore();
      const backend = open();
      const crash = asyncCompute(task, { store, backend });
      const handle = await crash(undefined);
      const error = await handle.result({ timeout: 20_000 }).catch((caught: unknown) => caught);
      expect(ComputationFailedError.isInstance(error)).toBe(true);
      expect((error as ComputationFailedError).remoteName).toBe('ProcessCrashedError');
      expect((error as ComputationFailedError).remoteMessage).toMatch(message);
      expect((error as ComputationFailedError).remoteMessage).toContain(`task "${task.name}"`);
      expect(await handle.status()).toBe('failed');
      const double = asyncCompute(tasks.double, { store, backend });
      const next = await Promise.all([5, 6].map((n) => double(n)));
      expect(await Promise.all(next.map((h) => h.result({ timeout: 20_000 })))).toEqual([10, 12]);
    });

    it('should describe a process killed by a signal', () => {
      const error = new ProcessCrashedError({ task: 't', key: 'k', exit: { code: null, signal: 'SIGSEGV' } });
      expect(ProcessCrashedError.isInstance(error)).toBe(true);
      expect(error.message).toContain('the process was killed by SIGSEGV');
    });
  });

  describe('when a task reports progress and logs', () => {
    it('should write progress from the process to the store and forward log lines', async () => {
      const store = new MemoryStore();
      const lines: unknown[][] = [];
      const logger = {
        debug: () => {},
        info: (...args: unknown[]) => lines.push(args),
        warn: () => {},
        error: () => {},
      };
      const report = asyncCompute(tasks.report, { store, backend: open({ progressInterval: 10 }), logger });
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
      const value = await handle.result({ timeout: 15_000 });
      expect(value.when).toEqual(new Date(0));
      expect(value.tags).toEqual(new Set(['x']));
      expect(value.big).toBe(2n ** 70n);
      expect(value.map.get('a')).toBe(1);
      expect(structuredCodec.decode((await store.get(handle.key))?.value)).toEqual(value);
    });
  });

  describe('when closed', () => {
    it('should stop running work after the timeout, mark it cancelled and end every process', async () => {
      const store = new MemoryStore();
      const backend = open({ cancelGracePeriod: 50 });
      const busy = asyncCompute(tasks.busyLoop, { store, backend });
      const running = await busy({ ms: 60_000 });
      const queued = await busy({ ms: 1 });
      await waitFor(async () => (await running.status()) === 'running');
      const started = Date.now();
      await backend.close({ timeout: 100 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await running.status()).toBe('cancelled');
      expect(await queued.status()).toBe('cancelled');
      expect(backend.processCount).toBe(0);
      await expect(backend.ping()).rejects.toThrow(/closed/);
    });
  });

  describe('when configured from the environment', () => {
    it('should build a ProcessBackend for AU_BACKEND=process', async () => {
      registerBackendProvider(backendProvider);
      const config = await configFromEnv({
        env: { AU_BACKEND: 'process', AU_TASKS: fixtureUrl.href, AU_CONCURRENCY: '1' },
      });
      try {
        expect(config.backend).toBeInstanceOf(ProcessBackend);
        expect((config.backend as ProcessBackend).concurrency).toBe(1);
        const double = asyncCompute(tasks.double, { store: config.store, backend: config.backend });
        expect(await (await double(4)).result({ timeout: 15_000 })).toBe(8);
      } finally {
        await config.close();
      }
    });

    it('should refuse AU_BACKEND=process without task modules', async () => {
      const error = await Promise.resolve()
        .then(() =>
          backendProvider.create({
            value: 'process',
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
  const path = join(tmpdir(), `au-process-${randomUUID()}.beat`);
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

async function waitFor<T>(check: () => T | Promise<T>, timeout = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
