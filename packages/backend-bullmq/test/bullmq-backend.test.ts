import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskLogger } from '@au/core';
import { asyncCompute, defineTask } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks, conformanceTasksUrl, testBackend } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMQBackend, backendProvider, redisUrlFromEnv, toBullMQPriority, toJobId } from '../src/index';
import { redisUp, redisUrl, TestResources } from './helpers';
import { forwardLogs, setStoreOutage, startWorkerProcess, stopWorkerProcess } from './worker-processes';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

/** The conformance `producer-killed` case's producer, over `queue` and the store of `prefix`. */
const conformanceProducer = (queue: string, prefix: string) => ({
  entry: new URL('./fixtures/conformance-producer.ts', import.meta.url),
  env: { AU_REDIS_URL: redisUrl, AU_QUEUE: queue, STORE_PREFIX: prefix },
  execArgv: ['--conditions=@au/source', '--import', 'tsx'],
});

describe.runIf(redisUp)('backend-bullmq', () => {
  // One prefix for every store of this file: workers and handles share the records.
  const prefix = resources.prefix('conformance');
  testBackend(
    'BullMQBackend',
    ({ store, concurrency, logger, maxQueued }) =>
      new BullMQBackend({
        maxQueued,
        connection: redisUrl,
        queue: resources.queue('conformance'),
        tasks: [conformanceTasksUrl],
        ...(logger === undefined ? {} : { logger }),
        worker: { store, concurrency: concurrency ?? 20 },
      }),
    {
      makeStore: () => new RedisStore({ redis: redisUrl, prefix }),
      manyCount: 500,
      producerProcess: (backend) => conformanceProducer((backend as BullMQBackend).queueName, prefix),
    },
  );

  describe('with workers in other processes', () => {
    const queue = resources.queue('conformance-processes');
    const processPrefix = resources.prefix('conformance-processes');
    const deadLetterFile = join(tmpdir(), `au-dead-letters-${processPrefix}.log`);
    let workers: ChildProcess[] = [];
    /** The suite's logger of the running test: the workers' log lines go there. */
    let currentLogger: TaskLogger | undefined;
    beforeAll(async () => {
      const id = new RedisStore({ redis: redisUrl, prefix: processPrefix });
      const env = {
        AU_REDIS_URL: redisUrl,
        AU_QUEUE: queue,
        STORE_PREFIX: processPrefix,
        // Their store reaches Redis through a proxy (another port): the same store all the same.
        STORE_ID: id.id,
        STORE_OUTAGES: '1',
        FORWARD_LOGS: '1',
        CONCURRENCY: '10',
        DEAD_LETTER_FILE: deadLetterFile,
      };
      await id.close();
      workers = await Promise.all([startWorkerProcess(env), startWorkerProcess(env)]);
      for (const worker of workers) forwardLogs(worker, () => currentLogger);
    }, 40_000);
    afterAll(async () => {
      await Promise.all(workers.map(stopWorkerProcess));
      rmSync(deadLetterFile, { force: true });
    });

    testBackend(
      'BullMQBackend (workers in other processes)',
      ({ logger, maxQueued }) => {
        currentLogger = logger;
        // No task list: every launch is queued, and a task the workers lack is theirs to fail.
        return new BullMQBackend({ connection: redisUrl, queue, maxQueued });
      },
      {
        makeStore: () => new RedisStore({ redis: redisUrl, prefix: processPrefix }),
        manyCount: 500,
        producerProcess: () => conformanceProducer(queue, processPrefix),
        // The workers were started once, with their own concurrency: a factory cannot change
        // it, and cancel-pending needs one slot to keep a computation pending.
        concurrencyLimit: false,
        priority: false,
        // The workers run with their own middleware, not the launch's onDeadLetter.
        deadLetterHook: false,
        // The workers run their own middleware; meta-task checks what reaches them.
        launchMiddlewareRuns: false,
        skip: [
          'cancel-pending',
          // The producer has no task list, so nothing is refused at launch (worker-unknown-task checks the workers).
          'unknown-task',
          // A producer without a worker has nothing to drain: its jobs are in Redis, the workers finish them.
          'close-drains',
        ],
        extra: ({ getStore, getBackend }) => {
          it('should announce a dead letter through the onDeadLetter of the worker that ran it', async () => {
            const backend = await getBackend();
            const fail = asyncCompute(conformanceTasks.fail, { store: getStore(), backend });
            const handle = await fail({ message: 'dead in a worker' });
            await expect(handle.result({ timeout: 10_000 })).rejects.toThrow('dead in a worker');
            const line = await waitFor(() =>
              readFileSafe(deadLetterFile)
                .split('\n')
                .find((item) => item.startsWith(`${handle.key} `)),
            );
            const [, status, pid] = line.split(' ');
            expect(status).toBe('failed');
            expect(workers.map((worker) => String(worker.pid))).toContain(pid);

            // A task no worker has can never start: a dead letter too, announced by the worker.
            const nowhere = defineTask({ name: `au-test.nowhere-${Date.now()}`, run: () => 1 });
            const lost = await asyncCompute(nowhere, { store: getStore(), backend })(undefined);
            await expect(lost.result({ timeout: 10_000 })).rejects.toThrow('not in');
            await waitFor(() =>
              readFileSafe(deadLetterFile)
                .split('\n')
                .find((item) => item.startsWith(`${lost.key} failed `)),
            );
          });
        },
        outage: {
          begin: async () => {
            await Promise.all(workers.map((worker) => setStoreOutage(worker, true)));
          },
          end: async () => {
            await Promise.all(workers.map((worker) => setStoreOutage(worker, false)));
          },
        },
      },
    );
  });

  describe('when a computation whose job BullMQ keeps is retried', () => {
    it('should replace the kept job, so the retry runs under the same key', async () => {
      const store = new RedisStore({ redis: redisUrl, prefix: resources.prefix('kept-jobs') });
      const backend = new BullMQBackend({
        connection: redisUrl,
        queue: resources.queue('kept-jobs'),
        tasks: [conformanceTasksUrl],
        // Failed and completed jobs stay in BullMQ under the computation's key.
        jobOptions: { removeOnComplete: false, removeOnFail: false },
        worker: { store },
      });
      try {
        const flaky = asyncCompute(conformanceTasks.flaky, { store, backend });
        const handle = await flaky({ succeedOn: 2 });
        await expect(handle.result({ timeout: 10_000 })).rejects.toThrow('attempt 1 fails on purpose');
        expect(await (await backend.queue.getJob(toJobId(handle.key)))?.getState()).toBe('failed');
        await handle.retry();
        expect(await handle.result({ timeout: 10_000 })).toEqual({ attempt: 2 });
        expect(await (await backend.queue.getJob(toJobId(handle.key)))?.getState()).toBe('completed');
      } finally {
        await backend.close({ timeout: 1000 });
        await store.close();
      }
    });
  });

  describe('when mapping priorities', () => {
    it('should keep au order (higher first) in BullMQ order (lower first) and never use 0', () => {
      const au = [-2_000_000, -5, -1, 0, 0.4, 1, 5, 10, 2_000_000];
      const bull = au.map(toBullMQPriority);
      for (let index = 1; index < bull.length; index++)
        expect(bull[index]!).toBeLessThanOrEqual(bull[index - 1]!);
      expect(Math.min(...bull)).toBe(1);
      expect(Math.max(...bull)).toBe(2_097_151);
      expect(toBullMQPriority(10)).toBeLessThan(toBullMQPriority(5));
    });
  });

  describe('when configured from the environment', () => {
    it('should take the queue Redis from AU_REDIS_URL, else a Redis AU_STORE', () => {
      expect(redisUrlFromEnv({ AU_REDIS_URL: 'redis://a:1', AU_STORE: 'redis://b:2' })).toBe('redis://a:1');
      expect(redisUrlFromEnv({ AU_STORE: 'rediss://b:2' })).toBe('rediss://b:2');
      expect(redisUrlFromEnv({ AU_STORE: 'fs:./x' })).toBe('redis://127.0.0.1:6379');
      expect(backendProvider.matches('bullmq')).toBe(true);
      expect(backendProvider.matches('threads')).toBe(false);
    });
  });
});

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function waitFor<T>(check: () => T | undefined, timeout = 10_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`[test] timed out after ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
