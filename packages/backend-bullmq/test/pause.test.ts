import type { ChildProcess } from 'node:child_process';
import {
  type ComputationHandle,
  type ComputationRecord,
  pausedState,
  pauseQueue,
  pauseTask,
  resumeQueue,
  resumeTask,
  submitTask,
} from '@au/core';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks } from '@au/testing';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../src/index';
import { parkedJobsKey } from '../src/paused-tasks';
import { squareTask } from './fixtures/chaos-tasks';
import { redisUp, redisUrl, TestResources } from './helpers';
import { startWorkerProcess, stopWorkerProcess } from './worker-processes';

/** Polls `read` until `done` holds of its value, for up to `timeout` ms; fails with `what` otherwise. */
async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeout = 20_000,
) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`[test] ${what} did not happen within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(redisUp)('backend-bullmq pause', () => {
  const resources = new TestResources();
  let queue: string;
  let prefix: string;
  let workers: ChildProcess[];
  let store: RedisStore;
  let backend: BullMQBackend;
  let redis: Redis;
  // One job at a time by default: the order in which resumed work starts is visible.
  const startWorker = async (concurrency = '1') => {
    const child = await startWorkerProcess({
      AU_REDIS_URL: redisUrl,
      AU_QUEUE: queue,
      STORE_PREFIX: prefix,
      CONCURRENCY: concurrency,
    });
    workers.push(child);
    return child;
  };

  beforeEach(() => {
    queue = resources.queue('pause');
    prefix = resources.prefix('pause');
    workers = [];
    store = new RedisStore({ redis: redisUrl, prefix });
    backend = new BullMQBackend({ connection: redisUrl, queue });
    redis = new Redis(redisUrl);
  });
  afterEach(async () => {
    await Promise.all(workers.map(stopWorkerProcess));
    await backend.close();
    await store.close();
    redis.disconnect();
    await resources.cleanup();
  });

  describe('when a task is paused before its workers start', () => {
    it('should park its jobs with their records pending, run other tasks, and run it in queue order on resume', async () => {
      // Paused first: the pause is in Redis, so a worker that starts later sees it.
      expect(await pauseTask(squareTask, { backend })).toEqual({ queue: false, tasks: ['chaos.square'] });
      const squares: ComputationHandle[] = [];
      for (const n of [1, 2, 3, 4])
        squares.push(await submitTask(squareTask, { n, ms: 1 }, { store, backend }));
      await startWorker();

      // Another task runs meanwhile: the worker is up and taking jobs.
      const echo = await submitTask(conformanceTasks.echo, 'hello', { store, backend });
      expect(await echo.result({ timeout: 20_000 })).toBe('hello');
      // The worker took each square job and parked it.
      const parked = await waitFor(
        () => redis.zrange(parkedJobsKey('bull', queue, 'chaos.square'), 0, -1),
        (ids) => ids.length === squares.length,
        'the parking of every square job',
      );
      expect(parked).toEqual(squares.map((handle) => handle.key));
      for (const handle of squares) {
        const record = await handle.record();
        expect(record.status).toBe('pending');
        expect(record.attempt).toBe(0);
      }
      expect(await pausedState({ backend })).toEqual({ queue: false, tasks: ['chaos.square'] });

      expect(await resumeTask('chaos.square', { backend })).toEqual({ queue: false, tasks: [] });
      const records: ComputationRecord[] = [];
      for (const handle of squares) {
        await handle.result({ timeout: 20_000 });
        records.push(await handle.record());
      }
      expect(records.map((record) => (record.value as { square: number }).square)).toEqual([1, 4, 9, 16]);
      // One worker, one job at a time: they started in the order they were launched.
      const starts = records.map((record) => record.startedAt!);
      expect([...starts].sort((a, b) => a - b)).toEqual(starts);
      expect(await redis.exists(parkedJobsKey('bull', queue, 'chaos.square'))).toBe(0);
    });

    it('should let a parked computation be cancelled, and not run it on resume', async () => {
      await pauseTask(squareTask, { backend });
      await startWorker();
      const handle = await submitTask(squareTask, { n: 5, ms: 1 }, { store, backend });
      await waitFor(
        () => redis.zcard(parkedJobsKey('bull', queue, 'chaos.square')),
        (count) => count === 1,
        'the parking of the square job',
      );
      expect(await handle.cancel()).toBe(true);
      await resumeTask(squareTask, { backend });
      // A later computation of the task runs; the cancelled one stays cancelled.
      const after = await submitTask(squareTask, { n: 6, ms: 1 }, { store, backend });
      expect(await after.result({ timeout: 20_000 })).toMatchObject({ square: 36 });
      const record = await handle.record();
      expect(record.status).toBe('cancelled');
      expect(record.startedAt).toBeUndefined();
    });
  });

  describe('when a task is resumed while workers are parking its jobs', () => {
    it('should run every job at once, none left parked until the safety re-check', async () => {
      await pauseTask(squareTask, { backend });
      await Promise.all([startWorker('5'), startWorker('5')]);
      const handles = await Promise.all(
        Array.from({ length: 40 }, (_, n) => submitTask(squareTask, { n, ms: 1 }, { store, backend })),
      );
      // Some are parked, others are being taken and parked as the resume runs.
      await waitFor(
        () => redis.zcard(parkedJobsKey('bull', queue, 'chaos.square')),
        (count) => count >= 5,
        'the parking of a few square jobs',
      );
      await resumeTask(squareTask, { backend });
      // Far less than the 5 minutes a job left parked would wait.
      const results = await Promise.all(handles.map((handle) => handle.result({ timeout: 30_000 })));
      expect(results.map((result) => (result as { square: number }).square)).toEqual(
        handles.map((_, n) => n * n),
      );
      expect(await redis.exists(parkedJobsKey('bull', queue, 'chaos.square'))).toBe(0);
    });
  });

  describe('when the whole queue is paused', () => {
    it('should start nothing until it is resumed, and keep task pauses apart', async () => {
      await startWorker();
      expect(await pauseQueue({ backend })).toEqual({ queue: true, tasks: [] });
      await pauseTask('other.task', { backend });
      const handle = await submitTask(conformanceTasks.echo, 'later', { store, backend });
      // The job is in Redis (the launch resolved); the worker waits on the queue but takes nothing.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await handle.status()).toBe('pending');
      expect(await pausedState({ backend })).toEqual({ queue: true, tasks: ['other.task'] });

      expect(await resumeQueue({ backend })).toEqual({ queue: false, tasks: ['other.task'] });
      expect(await handle.result({ timeout: 20_000 })).toBe('later');
    });
  });

  describe('when the backend is closed', () => {
    it('should refuse to pause', async () => {
      const closed = new BullMQBackend({ connection: redisUrl, queue: resources.queue('closed') });
      await closed.close();
      await expect(closed.pause('x')).rejects.toThrow(/closed/);
      await expect(closed.paused()).rejects.toThrow(/closed/);
    });
  });
});
