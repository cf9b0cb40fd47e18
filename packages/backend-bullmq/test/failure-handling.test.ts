import { ComputationFailedError, type ComputationRecord, NO_RETRY, submitTask } from '@au/core';
import type { ExecutionOutcome } from '@au/core/kit';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks, conformanceTasksUrl, faultyStore, type StoreFault } from '@au/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BullMQBackend, type BullMQWorker, startBullMQWorker, toJobId } from '../src/index';
import { RecordingLogger, redisUp, redisUrl, TestResources, waitFor } from './helpers';
import { startWorkerProcess, stopWorkerProcess } from './worker-processes';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

/** One queue and one store prefix per test; closed after it. */
function setUp(label: string) {
  const queue = resources.queue(label);
  const prefix = resources.prefix(label);
  const store = new RedisStore({ redis: redisUrl, prefix });
  const backend = new BullMQBackend({ connection: redisUrl, queue });
  const logger = new RecordingLogger();
  const outcomes: { key: string; outcome: ExecutionOutcome }[] = [];
  const workers: BullMQWorker[] = [];
  const start = async (options: Partial<Parameters<typeof startBullMQWorker>[0]> = {}) => {
    const worker = await startBullMQWorker({
      connection: redisUrl,
      queue,
      store,
      tasks: [conformanceTasksUrl],
      logger,
      giveBackDelay: 100,
      onOutcome: (key, outcome) => outcomes.push({ key, outcome }),
      ...options,
    });
    workers.push(worker);
    return worker;
  };
  const close = async () => {
    await Promise.all(workers.map((worker) => worker.close({ timeout: 1000 })));
    await backend.close();
    await store.close();
  };
  return { queue, prefix, store, backend, logger, outcomes, start, close };
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
  cleanups = [];
});
function given(label: string) {
  const context = setUp(label);
  cleanups.push(context.close);
  return context;
}

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when a job names a task the worker does not have', () => {
    it('should fail the record with TaskNotFoundError, and a waiting result() should reject within seconds', async () => {
      const { store, backend, start, logger } = given('unknown-task');
      // This worker knows only `add`; the backend has no task list, so it queues anything.
      await start({ tasks: [conformanceTasks.add] });
      const handle = await submitTask(conformanceTasks.echo, 'hello', { store, backend });
      const started = Date.now();
      const error = await handle.result({ timeout: 10_000 }).catch((caught: unknown) => caught);
      expect(Date.now() - started).toBeLessThan(8000);
      expect(ComputationFailedError.isInstance(error), String(error)).toBe(true);
      expect((error as ComputationFailedError).remoteName).toBe('TaskNotFoundError');
      expect((error as Error).message).toContain('au-conformance.echo');
      const record = await store.get(handle.key);
      expect(record).toMatchObject({ status: 'failed', attempt: 0 });
      expect(record?.finishedAt).toBeTypeOf('number');
      expect(logger.find('error', /au-conformance\.echo/)).toHaveLength(1);
    });
  });

  describe('when the record is missing or expired when the worker gets the job', () => {
    it('should drop the job with a warning naming the key and write nothing', async () => {
      const { store, backend, start, logger, outcomes } = given('missing');
      await start();
      const missing = `missing-${Date.now()}`;
      const expired = `expired-${Date.now()}`;
      await store.create({
        key: expired,
        task: conformanceTasks.add.name,
        status: 'pending',
        args: { a: 1, b: 2 },
        attempt: 0,
        maxAttempts: 1,
        createdAt: Date.now(),
        expiresAt: Date.now() + 100,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const key of [missing, expired]) {
        await backend.queue.add(
          conformanceTasks.add.name,
          { task: conformanceTasks.add.name },
          { jobId: toJobId(key) },
        );
      }
      for (const key of [missing, expired]) {
        const [line] = await waitFor(`the warning about ${key}`, () => {
          const lines = logger.find('warn', new RegExp(`computation "${key}" has no record`));
          return lines.length > 0 ? lines : undefined;
        });
        expect(line!.fields.key).toBe(key);
        expect(await store.get(key)).toBeUndefined();
        expect(outcomes.find((entry) => entry.key === key)?.outcome).toEqual({
          status: 'skipped',
          record: undefined,
        });
      }
      await waitFor('the jobs to leave the queue', async () =>
        (await backend.queue.getJob(toJobId(missing))) === undefined ? true : undefined,
      );
      expect(await store.redis.exists(store.keys.record(missing), store.keys.record(expired))).toBe(0);
    });
  });

  describe('when the store fails around the claim or the result and the retries are spent', () => {
    const faultCases: { name: string; fault: StoreFault; attempt: number; given: number }[] = [
      {
        name: 'the claim fails before it reaches Redis',
        fault: { method: 'claim', on: [1], error: new Error('connection reset (injected)') },
        attempt: 1,
        given: 1,
      },
      {
        name: 'the result write fails before it reaches Redis',
        fault: { method: 'update', on: [1], error: new Error('connection reset (injected)') },
        attempt: 2,
        given: 1,
      },
      {
        name: 'the result write lands but its reply is lost',
        fault: { method: 'update', on: [1], error: new Error('connection reset (injected)'), phase: 'after' },
        attempt: 1,
        given: 1,
      },
    ];
    for (const faultCase of faultCases) {
      it(`should give the job back and complete it later once: ${faultCase.name}`, async () => {
        const { prefix, store, backend, start, logger } = given('give-back');
        const workerStore = faultyStore(new RedisStore({ redis: redisUrl, prefix }), faultCase.fault);
        cleanups.push(() => workerStore.close());
        // No retry inside the executor: the first store failure reaches the worker.
        await start({ store: workerStore, storeRetry: { timeout: 0 } });
        const handle = await submitTask(
          conformanceTasks.add,
          { a: 40, b: 2 },
          { store, backend, retry: NO_RETRY },
        );
        expect(await handle.result({ timeout: 10_000 })).toBe(42);
        const record = (await store.get(handle.key)) as ComputationRecord;
        expect(record).toMatchObject({ status: 'completed', value: 42, attempt: faultCase.attempt });
        expect(workerStore.injected).toHaveLength(1);
        expect(logger.find('warn', /goes back to queue/)).toHaveLength(faultCase.given);
      });
    }

    it('should fail the record, not give the job back, when the error is not an outage', async () => {
      const { prefix, store, backend, start, logger } = given('not-outage');
      const workerStore = faultyStore(new RedisStore({ redis: redisUrl, prefix }), {
        method: 'claim',
        on: [1],
        error: new TypeError('record field "x" is not a plain identifier (injected)'),
      });
      cleanups.push(() => workerStore.close());
      await start({ store: workerStore });
      const handle = await submitTask(
        conformanceTasks.add,
        { a: 1, b: 1 },
        { store, backend, retry: NO_RETRY },
      );
      const error = await handle.result({ timeout: 10_000 }).catch((caught: unknown) => caught);
      expect((error as Error).message).toMatch(/not a plain identifier \(injected\)/);
      expect(logger.find('warn', /goes back to queue/)).toHaveLength(0);
      expect(workerStore.calls.claim).toBe(1);
    });
  });

  describe('when BullMQ fails a job on its own (it stalled too often)', () => {
    it('should end the record failed with JobAbandonedError saying why, and announce it to the onDeadLetter of the worker that gave up', async () => {
      const { queue, prefix, store, backend, start } = given('stalled');
      const child = await startWorkerProcess({
        AU_REDIS_URL: redisUrl,
        AU_QUEUE: queue,
        STORE_PREFIX: prefix,
        CONCURRENCY: '1',
        LOCK_DURATION: '1000',
        // Stalled checks are queue-wide and spaced by the last checker's interval.
        STALLED_INTERVAL: '300',
      });
      cleanups.push(() => stopWorkerProcess(child));
      const handle = await submitTask(conformanceTasks.sleep, { ms: 60_000 }, { store, backend });
      await waitFor('the computation to run in the child', async () =>
        (await handle.status()) === 'running' ? true : undefined,
      );
      const killed = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await killed;
      // This worker's stalled check finds the dead worker's job: one stall is one too many.
      // Its store refuses the first three writes: the failed record is written all the same.
      const workerStore = faultyStore(new RedisStore({ redis: redisUrl, prefix }), {
        method: 'update',
        on: [1, 2, 3],
        error: new Error('connection reset (injected)'),
      });
      cleanups.push(() => workerStore.close());
      const dead: ComputationRecord[] = [];
      await start({
        store: workerStore,
        maxStalledCount: 0,
        stalledInterval: 300,
        lockDuration: 1000,
        onDeadLetter: (record) => {
          dead.push(record);
        },
      });
      const error = await handle.result({ timeout: 15_000 }).catch((caught: unknown) => caught);
      expect(ComputationFailedError.isInstance(error), String(error)).toBe(true);
      expect((error as ComputationFailedError).remoteName).toBe('JobAbandonedError');
      expect((error as Error).message).toMatch(/BullMQ gave up on job .* stalled more than allowable limit/);
      expect((error as Error).message).toMatch(/maxStalledCount/);
      expect(workerStore.injected).toHaveLength(3);
      await waitFor('the dead letter to be announced', () => (dead.length > 0 ? true : undefined));
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ key: handle.key, status: 'failed' });
      expect(dead[0]!.error?.name).toBe('JobAbandonedError');
    }, 40_000);
  });
});
