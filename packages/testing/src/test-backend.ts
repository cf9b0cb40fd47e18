import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AsyncComputeOptions,
  asyncCompute,
  CancelledError,
  type ComputationBackend,
  ComputationFailedError,
  type ComputationHandle,
  type ComputationStatus,
  type ComputationStore,
  type LaunchOptions,
  MemoryStore,
  type Middleware,
  submitTask,
  type TaskDefinition,
  type TaskLogger,
  TaskNotFoundError,
} from '@au/core';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { type CollectingLogger, collectingLogger } from './collecting-logger';
import { conformanceTasks } from './conformance-tasks';
import type { BackendSuite } from './internal/backend-suite';
import { caseDeclarer } from './internal/case';
import { createAndLaunchCases } from './internal/create-and-launch-cases';
import { flowLimitCases } from './internal/flow-limit-cases';
import { idempotencyCases } from './internal/idempotency-cases';
import { maxOverlap } from './internal/max-overlap';
import { producerKilledCase } from './internal/producer-killed-case';
import { uniqueId } from './internal/unique';
import { unknownTask } from './internal/unknown-task';
import { delay, waitUntil } from './internal/wait-until';
import type { ProducerProcess } from './killed-producer';
import type { StoreOutageControl } from './outage-store';
import { testBackendFailures } from './test-backend-failures';
import { testBackendFlow } from './test-backend-flow';
import { testBackendRetries } from './test-backend-retries';

/** What `testBackend` hands the backend factory. */
export interface BackendFactoryContext {
  /** The store of this test: the backend (and its workers) must use it. */
  store: ComputationStore;
  /**
   * How many computations may run at once: 1 for the priority and cancel-while-pending
   * cases, 2 for the concurrency-limit case, 4 or 6 for the concurrency-key cases (more
   * than the task's own limit), `undefined` (the backend's default) otherwise.
   * Map it to the backend's own knob (pool size, worker concurrency).
   */
  concurrency?: number;
  /**
   * The backend's own `maxQueued` (most computations waiting to start), for the
   * flow-control cases; `undefined` otherwise. Map it to the backend's `maxQueued` option.
   */
  maxQueued?: number;
  /**
   * Where the backend logs: pass it to the backend's `logger` option (and to its workers'
   * where they run in this process). The suite collects the lines; `[record-missing]`
   * looks for one naming the key.
   */
  logger?: TaskLogger;
}

/** What `testBackend` checks. Every flag is optional; `undefined` means "from `backend.capabilities`". */
export interface TestBackendFlags {
  /** Makes the store of each test. @default () => new MemoryStore() */
  makeStore?: () => ComputationStore | Promise<ComputationStore>;
  /** Run the inline-function case. @default backend.capabilities.inlineFunctions */
  inlineFunctions?: boolean;
  /** Check that a cancel stops a busy loop that ignores its signal. @default backend.capabilities.preemptiveCancel */
  preemptiveCancel?: boolean;
  /** Check priority order (higher first, FIFO within a priority). @default backend.capabilities.priority */
  priority?: boolean;
  /** Check that no more than `concurrency` computations overlap. @default true */
  concurrencyLimit?: boolean;
  /**
   * `launch` resolves before the work finishes (every real backend). `false` for a
   * backend that runs the work inside `launch` (SyncTestBackend): the cases that need
   * queued or running work while the test goes on (cancel, priority, concurrency) are
   * skipped. @default true
   */
  background?: boolean;
  /**
   * The backend runs tasks by name from task modules (threads, processes, queue
   * workers): launching a task that is not in `conformanceTasksUrl` must reject
   * `TaskNotFoundError`. @default !backend.capabilities.inlineFunctions
   */
  tasksByName?: boolean;
  /** How many computations the "many concurrent launches" case starts. @default 1000 */
  manyCount?: number;
  /**
   * Run-side middleware given at launch runs where this backend runs the work (its
   * workers run in this process): the `meta-middleware` case checks what it sees.
   * `false` for workers in other processes, which have their own middleware. @default true
   */
  launchMiddlewareRuns?: boolean;
  /** Case ids (the `[id]` at the end of each title) or full titles to skip. */
  skip?: string[];
  /** Multiplies every wait and time limit (slow backends, slow CI). @default 1 */
  timeoutScale?: number;
  /**
   * Drives a store outage where the workers see it, for backends whose workers run in
   * another process (the suite cannot reach their store object): `begin` makes the
   * workers' store fail with connection errors, `end` brings it back. The test's own
   * store (from `makeStore`) must stay reachable. @default the suite wraps the store
   * with `outageStore` and hands the wrapper to the factory
   */
  outage?: StoreOutageControl;
  /**
   * The middleware a launch registers (`asyncCompute({ onDeadLetter })`) runs where its work
   * runs: false for workers in other processes, which run with their own middleware; the
   * `dead-letter-hook` case is skipped then. @default true
   */
  deadLetterHook?: boolean;
  /**
   * A producer process for the `producer-killed` case (durable backends), given the
   * factory's backend whose workers will run its work: a script that calls
   * `runConformanceProducer` with a store and a backend reaching what that backend and the
   * test's store reach (the same Redis prefix or schema, the same queue). The case SIGKILLs
   * it mid-launch and checks that those workers end every record it created.
   * @default the case is skipped
   */
  producerProcess?: (backend: ComputationBackend) => ProducerProcess;
  /** Implementation-specific tests, declared inside the suite's `describe`. */
  extra?: (context: TestBackendExtraContext) => void;
}

/** What `extra` tests can reach: this test's store and backends made by the suite's factory. */
export interface TestBackendExtraContext {
  getStore(): ComputationStore;
  /** A backend from the factory for this test (closed by the suite after the test). */
  getBackend(concurrency?: number): Promise<ComputationBackend>;
}

/**
 * The conformance suite every `ComputationBackend` passes. Call it at the top level of
 * the backend's test file:
 * `testBackend('ThreadsBackend', ({ store, concurrency }) => new ThreadsBackend({ tasks: conformanceTasksUrl, maxThreads: concurrency }))`.
 * Each test gets a fresh store (`flags.makeStore`) and backends made by the factory,
 * closed after it. Backends that load task modules are built with `conformanceTasksUrl`.
 */
export function testBackend(
  name: string,
  makeBackend: (context: BackendFactoryContext) => ComputationBackend | Promise<ComputationBackend>,
  flags: TestBackendFlags = {},
): void {
  const scale = flags.timeoutScale ?? 1;
  const background = flags.background !== false;
  const test = caseDeclarer(flags.skip);
  describe(`testBackend(${name})`, () => {
    let store: ComputationStore | undefined;
    let log: CollectingLogger = collectingLogger();
    let backends: ComputationBackend[] = [];
    const getStore = (): ComputationStore => {
      if (store === undefined) throw new Error('[au] [testing] the store is made in beforeEach');
      return store;
    };
    const makeTestBackend = async (
      options: { concurrency?: number; store?: ComputationStore; maxQueued?: number } = {},
    ): Promise<ComputationBackend> => {
      const backend = await makeBackend({
        store: options.store ?? getStore(),
        logger: log,
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        ...(options.maxQueued === undefined ? {} : { maxQueued: options.maxQueued }),
      });
      backends.push(backend);
      return backend;
    };
    const getBackend = (concurrency?: number): Promise<ComputationBackend> =>
      makeTestBackend(concurrency === undefined ? {} : { concurrency });
    const launch = <Input, Result>(
      backend: ComputationBackend,
      task: TaskDefinition<Input, Result>,
      input: Input,
      options: AsyncComputeOptions & LaunchOptions = {},
    ): Promise<ComputationHandle<Result>> =>
      submitTask(task, input, { store: getStore(), backend, ...options });
    const statusOf = async (key: string) => (await getStore().get(key))?.status;
    const waitForStatus = (key: string, statuses: readonly ComputationStatus[], timeout = 10_000) =>
      waitUntil(
        async () => {
          const status = await statusOf(key);
          return status !== undefined && statuses.includes(status) ? status : undefined;
        },
        { timeout: timeout * scale, message: `computation "${key}" to be ${statuses.join(' or ')}` },
      );
    const capability = (
      flag: boolean | undefined,
      backend: ComputationBackend,
      fallback: boolean,
      context: { skip(note?: string): void },
      what: string,
    ) => {
      if (!(flag ?? fallback)) context.skip(`${backend.name} does not support ${what}`);
    };

    beforeEach(async () => {
      backends = [];
      log = collectingLogger();
      store = await (flags.makeStore ?? (() => new MemoryStore()))();
    });
    afterEach(async () => {
      const closing = backends;
      backends = [];
      await Promise.all(closing.map((backend) => backend.close({ timeout: 2000 * scale })));
      await store?.close();
      store = undefined;
    });

    describe('when a computation succeeds or fails', () => {
      test('result', 'should resolve the result and record it as completed', async () => {
        const backend = await getBackend();
        const echo = await launch(backend, conformanceTasks.echo, { hello: 'world', list: [1, 2] });
        const add = await launch(backend, conformanceTasks.add, { a: 2, b: 40 }, { ttl: 60 });
        expect(await echo.result({ timeout: 10_000 * scale })).toEqual({ hello: 'world', list: [1, 2] });
        expect(await add.result({ timeout: 10_000 * scale })).toBe(42);
        expect(await add.isReady()).toBe(true);
        const record = await add.record();
        expect(record.status).toBe('completed');
        expect(record.attempt).toBe(1);
        expect(record.startedAt).toBeTypeOf('number');
        expect(record.finishedAt).toBeGreaterThanOrEqual(record.startedAt!);
        expect(record.expiresAt).toBe(record.finishedAt! + 60_000);
      });

      test('given-key', 'should run under a caller-given key using every allowed character', async () => {
        const backend = await getBackend();
        // Keys may hold `:` and `.`, which some engines reserve (BullMQ refuses `:` in job ids).
        const key = `order:${uniqueId('given')}.v1_A-z`;
        const handle = await launch(backend, conformanceTasks.add, { a: 1, b: 2 }, { key });
        expect(handle.key).toBe(key);
        expect(await handle.result({ timeout: 10_000 * scale })).toBe(3);
        expect((await getStore().get(key))?.status).toBe('completed');
      });

      test('failure', 'should reject ComputationFailedError carrying the remote error', async () => {
        const backend = await getBackend();
        const handle = await launch(backend, conformanceTasks.fail, { message: 'bad input', code: 'E_BAD' });
        const error = await handle.result({ timeout: 10_000 * scale }).catch((caught: unknown) => caught);
        expect(ComputationFailedError.isInstance(error)).toBe(true);
        const failed = error as ComputationFailedError;
        expect(failed.remoteName).toBe('TypeError');
        expect(failed.remoteMessage).toBe('bad input');
        expect(failed.remoteCode).toBe('E_BAD');
        expect(await handle.status()).toBe('failed');
        expect((await handle.record()).error).toMatchObject({ name: 'TypeError', message: 'bad input' });
      });

      test('unknown-task', 'should reject the launch of a task not in its modules', async (context) => {
        const backend = await getBackend();
        capability(
          flags.tasksByName,
          backend,
          !backend.capabilities.inlineFunctions,
          context,
          'tasks by name',
        );
        const key = uniqueId('unknown');
        const error = await launch(backend, unknownTask, undefined, { key }).catch(
          (caught: unknown) => caught,
        );
        expect(TaskNotFoundError.isInstance(error)).toBe(true);
        expect(await statusOf(key)).toBe('failed');
      });

      test(
        'inline',
        'should run an inline function',
        async (context) => {
          const backend = await getBackend();
          capability(
            flags.inlineFunctions,
            backend,
            backend.capabilities.inlineFunctions,
            context,
            'inline functions',
          );
          const multiply = asyncCompute((a: number, b: number) => a * b, { store: getStore(), backend });
          const handle = await multiply(6, 7);
          expect(await handle.result({ timeout: 10_000 * scale })).toBe(42);
        },
        { when: flags.inlineFunctions !== false },
      );
    });

    describe('when the launch carries meta', () => {
      const meta = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tenant: 't1' };

      test('meta-task', "should hand the record's meta to the task's context", async () => {
        const backend = await getBackend();
        const handle = await launch(backend, conformanceTasks.meta, null, { meta });
        expect(await handle.result({ timeout: 10_000 * scale })).toEqual(meta);
        expect((await handle.record()).meta).toEqual(meta);
      });

      test(
        'meta-middleware',
        'should show run-side middleware the meta that launch-side middleware wrote',
        async () => {
          const backend = await getBackend();
          const seen: unknown[] = [];
          const middleware: Middleware = {
            name: 'meta-probe',
            async launch(context, next) {
              context.meta.fromLaunch = { key: context.key };
              return next();
            },
            async run(context, next) {
              seen.push({ ...context.meta });
              return next();
            },
          };
          const handle = await launch(
            backend,
            conformanceTasks.add,
            { a: 1, b: 1 },
            { meta, middleware: [middleware] },
          );
          expect(await handle.result({ timeout: 10_000 * scale })).toBe(2);
          expect(seen).toEqual([{ ...meta, fromLaunch: { key: handle.key } }]);
        },
        { when: flags.launchMiddlewareRuns !== false },
      );
    });
    idempotencyCases({ test, scale, getStore, getBackend, launch });

    describe('when cancelled', () => {
      test(
        'cancel-pending',
        'should cancel a pending computation so that it never runs',
        async () => {
          const backend = await getBackend(1);
          const blocker = await launch(backend, conformanceTasks.sleep, { ms: 30_000 });
          await waitForStatus(blocker.key, ['running']);
          const queued = await launch(backend, conformanceTasks.echo, 'queued');
          expect(await queued.status()).toBe('pending');
          expect(await queued.cancel('not needed')).toBe(true);
          expect(await queued.status()).toBe('cancelled');
          await expect(queued.result({ timeout: 5000 * scale })).rejects.toSatisfy(CancelledError.isInstance);
          expect(await queued.cancel()).toBe(false);
          expect(await blocker.cancel()).toBe(true);
          await expect(blocker.result({ timeout: 5000 * scale })).rejects.toSatisfy(
            CancelledError.isInstance,
          );
          // The slot is free again long before the 30 s sleep would end, and the
          // cancelled computation was dropped rather than run.
          const next = await launch(backend, conformanceTasks.echo, 'next');
          expect(await next.result({ timeout: 5000 * scale })).toBe('next');
          const record = await queued.record();
          expect(record.status).toBe('cancelled');
          expect(record.attempt).toBe(0);
          expect(record.value).toBeUndefined();
        },
        { timeout: 30_000 * scale, when: background },
      );

      test(
        'cancel-running',
        'should cancel a running computation through its signal',
        async () => {
          const backend = await getBackend(1);
          const handle = await launch(backend, conformanceTasks.sleep, { ms: 30_000 });
          await waitForStatus(handle.key, ['running']);
          expect(await handle.cancel('changed my mind')).toBe(true);
          expect(await handle.status()).toBe('cancelled');
          const error = await handle.result({ timeout: 5000 * scale }).catch((caught: unknown) => caught);
          expect(CancelledError.isInstance(error)).toBe(true);
          expect((error as Error).message).toContain('changed my mind');
          expect(await handle.cancel()).toBe(false);
          // The work really stopped: its only slot is free again long before the 30 s sleep ends.
          const next = await launch(backend, conformanceTasks.echo, 'next');
          expect(await next.result({ timeout: 5000 * scale })).toBe('next');
          expect((await handle.record()).status).toBe('cancelled');
        },
        { timeout: 30_000 * scale, when: background },
      );

      test(
        'cancel-late-completion',
        'should keep a cancel when the task completes anyway',
        async () => {
          const backend = await getBackend();
          const handle = await launch(backend, conformanceTasks.stubborn, { ms: 300 });
          await waitForStatus(handle.key, ['running']);
          expect(await handle.cancel()).toBe(true);
          await delay(800 * scale);
          const record = await handle.record();
          expect(record.status).toBe('cancelled');
          expect(record.value).toBeUndefined();
          await expect(handle.result({ timeout: 1000 * scale })).rejects.toSatisfy(CancelledError.isInstance);
        },
        { timeout: 30_000 * scale, when: background },
      );

      test(
        'cancel-preemptive',
        'should stop a busy loop that ignores its signal',
        async (context) => {
          const backend = await getBackend();
          capability(
            flags.preemptiveCancel,
            backend,
            backend.capabilities.preemptiveCancel,
            context,
            'preemptive cancel',
          );
          const heartbeatFile = join(tmpdir(), `${uniqueId('au-spin')}.beat`);
          try {
            const handle = await launch(backend, conformanceTasks.spin, { ms: 20_000, heartbeatFile });
            await waitForStatus(handle.key, ['running']);
            const readBeat = () => {
              try {
                return readFileSync(heartbeatFile, 'utf8');
              } catch {
                return undefined;
              }
            };
            await waitUntil(readBeat, { timeout: 10_000 * scale, message: 'the spin task to start' });
            expect(await handle.cancel()).toBe(true);
            expect(await handle.status()).toBe('cancelled');
            await delay(1000 * scale);
            const before = readBeat();
            await delay(300);
            expect(readBeat(), 'the busy loop should have stopped within ~1 s of the cancel').toBe(before);
            expect((await handle.record()).value).toBeUndefined();
          } finally {
            rmSync(heartbeatFile, { force: true });
          }
        },
        { timeout: 40_000 * scale, when: background && flags.preemptiveCancel !== false },
      );

      test('cancel-unknown', 'should answer false to a cancel of a key it never saw', async () => {
        const backend = await getBackend();
        expect(await backend.cancel(uniqueId('never'), 'test')).toBe(false);
      });
    });

    describe('when a time limit or a retry policy applies', () => {
      test(
        'timeout',
        "should fail with TimeoutError when the task's timeout passes",
        async () => {
          const backend = await getBackend();
          const started = Date.now();
          const handle = await launch(backend, conformanceTasks.timeout, { ms: 10_000 });
          const error = await handle.result({ timeout: 8000 * scale }).catch((caught: unknown) => caught);
          expect(ComputationFailedError.isInstance(error)).toBe(true);
          expect((error as ComputationFailedError).remoteName).toBe('TimeoutError');
          expect(await handle.status()).toBe('failed');
          expect(Date.now() - started).toBeLessThan(5000 * scale);
        },
        { timeout: 20_000 * scale },
      );

      test(
        'timeout-option',
        'should enforce a timeout given at launch',
        async () => {
          const backend = await getBackend();
          const handle = await launch(backend, conformanceTasks.sleep, { ms: 10_000 }, { timeout: 200 });
          const error = await handle.result({ timeout: 8000 * scale }).catch((caught: unknown) => caught);
          expect(ComputationFailedError.isInstance(error)).toBe(true);
          expect((error as ComputationFailedError).remoteName).toBe('TimeoutError');
          expect(await handle.status()).toBe('failed');
        },
        { timeout: 20_000 * scale },
      );

      test(
        'retry',
        'should retry with backoff and count attempts',
        async () => {
          const backend = await getBackend();
          const started = Date.now();
          const handle = await launch(backend, conformanceTasks.retrying, { succeedOn: 3 });
          expect(await handle.result({ timeout: 15_000 * scale })).toEqual({ attempt: 3 });
          const elapsed = Date.now() - started;
          // Backoff 100 ms then 200 ms (exponential from 100): at least 300 ms in all.
          expect(elapsed).toBeGreaterThanOrEqual(290);
          expect(elapsed).toBeLessThan(5000 * scale);
          const record = await handle.record();
          expect(record.attempt).toBe(3);
          expect(record.maxAttempts).toBe(3);
          expect(record.status).toBe('completed');
        },
        { timeout: 30_000 * scale },
      );

      test(
        'retry-exhausted',
        'should fail with the last error once the attempts are spent',
        async () => {
          const backend = await getBackend();
          const handle = await launch(backend, conformanceTasks.retrying, { succeedOn: 10 });
          const error = await handle.result({ timeout: 15_000 * scale }).catch((caught: unknown) => caught);
          expect(ComputationFailedError.isInstance(error)).toBe(true);
          expect((error as ComputationFailedError).remoteMessage).toBe('attempt 3 fails on purpose');
          expect((error as ComputationFailedError).remoteCode).toBe('E_FLAKY');
          const record = await handle.record();
          expect(record.status).toBe('failed');
          expect(record.attempt).toBe(3);
        },
        { timeout: 30_000 * scale },
      );

      test(
        'retry-option',
        'should apply a retry policy given at launch',
        async () => {
          const backend = await getBackend();
          const started = Date.now();
          const handle = await launch(
            backend,
            conformanceTasks.flaky,
            { succeedOn: 2 },
            { retry: { attempts: 2, backoff: 'fixed', delay: 150 } },
          );
          expect(await handle.result({ timeout: 15_000 * scale })).toEqual({ attempt: 2 });
          expect(Date.now() - started).toBeGreaterThanOrEqual(140);
          expect((await handle.record()).attempt).toBe(2);
        },
        { timeout: 30_000 * scale },
      );
    });

    describe('when a task reports progress', () => {
      test(
        'progress',
        'should let the handle see progress events and the last value',
        async () => {
          const backend = await getBackend();
          const handle = await launch(backend, conformanceTasks.progress, {
            values: [1, 2, 3],
            interval: 150,
          });
          const progress: unknown[] = [];
          const statuses: ComputationStatus[] = [];
          for await (const event of handle.events()) {
            if (event.type === 'progress') progress.push(event.progress);
            else statuses.push(event.status);
          }
          expect(await handle.result({ timeout: 10_000 * scale })).toBe(3);
          expect(await handle.progress()).toBe(3);
          expect(statuses[statuses.length - 1]).toBe('completed');
          expect(progress.length).toBeGreaterThan(0);
          expect(progress[progress.length - 1]).toBe(3);
          expect(progress).toEqual([1, 2, 3].filter((value) => progress.includes(value)));
          if (background) expect(progress.length).toBeGreaterThanOrEqual(2);
        },
        { timeout: 20_000 * scale },
      );
    });

    describe('when a task writes log lines', () => {
      test('logs', 'should keep the lines with the record, after a success and after a failure', async () => {
        const backend = await getBackend();
        const lines = ['first', 'second', 'third'];
        const handle = await launch(backend, conformanceTasks.log, { lines });
        expect(await handle.result({ timeout: 10_000 * scale })).toBe(3);
        const logs = (await handle.record()).logs;
        expect(logs?.dropped).toBe(0);
        expect(logs?.lines.map((line) => [line.level, line.message])).toEqual([
          ['info', 'first'],
          ['info', 'second'],
          ['info', 'third'],
          ['warn', 'done logging'],
        ]);
        expect(logs?.lines[0]).toMatchObject({ data: { index: 0 }, attempt: 1 });
        expect(typeof logs?.lines[0]?.time).toBe('number');

        const failing = await launch(backend, conformanceTasks.log, { lines: ['before'], message: 'broke' });
        await expect(failing.result({ timeout: 10_000 * scale })).rejects.toThrow(/broke/);
        const failed = await failing.record();
        expect(failed.status).toBe('failed');
        expect(failed.logs?.lines.map((line) => line.message)).toEqual(['before', 'done logging']);

        // A task that never logs writes no log.
        const quiet = await launch(backend, conformanceTasks.add, { a: 1, b: 2 });
        expect(await quiet.result({ timeout: 10_000 * scale })).toBe(3);
        expect((await quiet.record()).logs).toBeUndefined();
        expect(await quiet.logs()).toEqual({ lines: [], dropped: 0 });
      });
    });

    describe('when many computations compete', () => {
      test(
        'concurrency-limit',
        'should never run more computations at once than its concurrency',
        async () => {
          const limit = 2;
          const backend = await getBackend(limit);
          const handles = await Promise.all(
            Array.from({ length: 6 }, (_, index) =>
              launch(backend, conformanceTasks.stamp, { id: `s${index}`, ms: 200 }),
            ),
          );
          const stamps = await Promise.all(
            handles.map((handle) => handle.result({ timeout: 20_000 * scale })),
          );
          expect(maxOverlap(stamps)).toBeLessThanOrEqual(limit);
        },
        { timeout: 40_000 * scale, when: background && flags.concurrencyLimit !== false },
      );

      test(
        'priority',
        'should run higher priority first and equal priorities in launch order',
        async (context) => {
          const backend = await getBackend(1);
          capability(flags.priority, backend, backend.capabilities.priority, context, 'priority');
          const blocker = await launch(backend, conformanceTasks.sleep, { ms: 30_000 });
          await waitForStatus(blocker.key, ['running']);
          const plan: [string, number][] = [
            ['a', 0],
            ['b', 5],
            ['c', 0],
            ['d', 10],
            ['e', 5],
            ['f', -1],
          ];
          const handles: ComputationHandle<{ id: string; start: number; end: number }>[] = [];
          for (const [id, priority] of plan) {
            handles.push(await launch(backend, conformanceTasks.stamp, { id, ms: 20 }, { priority }));
          }
          expect(await blocker.cancel()).toBe(true);
          const stamps = await Promise.all(
            handles.map((handle) => handle.result({ timeout: 20_000 * scale })),
          );
          const order = [...stamps]
            .sort((a, b) => a.start - b.start || a.end - b.end)
            .map((stamp) => stamp.id);
          expect(order).toEqual(['d', 'b', 'e', 'a', 'c', 'f']);
        },
        { timeout: 60_000 * scale, when: background && flags.priority !== false },
      );

      const many = flags.manyCount ?? 1000;
      test(
        'many',
        `should complete ${many} concurrent launches`,
        async () => {
          const backend = await getBackend();
          const handles = await Promise.all(
            Array.from({ length: many }, (_, index) =>
              launch(backend, conformanceTasks.add, { a: index, b: 1 }),
            ),
          );
          expect(new Set(handles.map((handle) => handle.key)).size).toBe(many);
          const results = await Promise.all(
            handles.map((handle) => handle.result({ timeout: 60_000 * scale })),
          );
          expect(results).toEqual(Array.from({ length: many }, (_, index) => index + 1));
        },
        { timeout: 90_000 * scale },
      );
    });

    describe('when closed', () => {
      test(
        'close-drains',
        'should finish launched work on close and refuse later launches',
        async () => {
          const backend = await getBackend();
          const handles = await Promise.all(
            [0, 1, 2].map((index) => launch(backend, conformanceTasks.stamp, { id: `c${index}`, ms: 200 })),
          );
          await backend.close({ timeout: 10_000 * scale });
          for (const handle of handles) expect(await handle.status()).toBe('completed');
          const key = uniqueId('after-close');
          await expect(launch(backend, conformanceTasks.echo, 'late', { key })).rejects.toThrow();
          expect(await statusOf(key)).toBe('failed');
        },
        { timeout: 30_000 * scale },
      );
    });

    const suite: BackendSuite = {
      test,
      scale,
      background,
      outage: flags.outage,
      deadLetterHook: flags.deadLetterHook !== false,
      producerProcess: flags.producerProcess,
      getStore,
      getLog: () => log,
      getBackend: makeTestBackend,
      launch,
      waitForStatus,
    };
    testBackendFailures(suite);
    testBackendRetries(suite);
    testBackendFlow(suite);
    flowLimitCases(suite);
    createAndLaunchCases(suite);
    producerKilledCase(suite);

    if (flags.extra !== undefined) describe('extra', () => flags.extra!({ getStore, getBackend }));
  });
}
