import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  parkedJobsKey,
  parkIfPaused,
  pausedTasksChannel,
  pauseTaskIn,
  resumeTaskIn,
} from '../src/paused-tasks';
import { PausedTasksView } from '../src/paused-tasks-view';
import { listenForSignals } from '../src/worker-signals';
import { redisUp, redisUrl, TestResources } from './helpers';

// The parking protocol on its own, with a job taken by hand (a worker without processor).
describe.runIf(redisUp)('backend-bullmq parked jobs', () => {
  const resources = new TestResources();
  let redis: Redis;
  let queue: Queue;
  let worker: Worker;
  let place: { redis: Redis; prefix: string; queue: string };

  beforeEach(async () => {
    const name = resources.queue('parked');
    redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    queue = new Queue(name, { connection: redis });
    worker = new Worker(name, null, { connection: redis });
    place = { redis, prefix: 'bull', queue: name };
  });
  afterEach(async () => {
    await worker.close();
    await queue.close();
    redis.disconnect();
    await resources.cleanup();
  });

  const take = async () => {
    const job = (await worker.getNextJob('token-1'))!;
    expect(job).toBeDefined();
    return job;
  };

  describe('when the task is not paused', () => {
    it('should leave the job to run', async () => {
      await queue.add('report', { task: 'report' });
      const job = await take();
      expect(await parkIfPaused(place, job, 'report', 'token-1')).toBe(false);
      expect(await job.getState()).toBe('active');
    });
  });

  describe('when the task is paused', () => {
    it('should park the job (delayed) and bring it back on resume', async () => {
      await pauseTaskIn(place, 'report');
      const added = await queue.add('report', { task: 'report' });
      const job = await take();
      expect(await parkIfPaused(place, job, 'report', 'token-1')).toBe(true);
      expect(await job.getState()).toBe('delayed');
      expect(await redis.zrange(parkedJobsKey('bull', place.queue, 'report'), 0, -1)).toEqual([added.id]);
      await resumeTaskIn(place, queue, 'report');
      expect(await job.getState()).toBe('waiting');
      expect(await redis.exists(parkedJobsKey('bull', place.queue, 'report'))).toBe(0);
    });
  });

  describe('when the resume lands between the check and the move to delayed', () => {
    it('should promote the job itself instead of leaving it parked', async () => {
      await pauseTaskIn(place, 'report');
      await queue.add('report', { task: 'report' });
      const job = await take();
      // The resume runs while the job is still active: it cannot promote it.
      const move = job.moveToDelayed.bind(job);
      job.moveToDelayed = async (timestamp, token) => {
        await resumeTaskIn(place, queue, 'report');
        return move(timestamp, token);
      };
      expect(await parkIfPaused(place, job, 'report', 'token-1')).toBe(true);
      expect(await job.getState()).toBe('waiting');
    });

    it('should list the job again when the task was paused again meanwhile, for the next resume', async () => {
      await pauseTaskIn(place, 'report');
      await queue.add('report', { task: 'report' });
      const job = await take();
      const move = job.moveToDelayed.bind(job);
      job.moveToDelayed = async (timestamp, token) => {
        await resumeTaskIn(place, queue, 'report');
        await pauseTaskIn(place, 'report');
        return move(timestamp, token);
      };
      expect(await parkIfPaused(place, job, 'report', 'token-1')).toBe(true);
      expect(await job.getState()).toBe('delayed');
      await resumeTaskIn(place, queue, 'report');
      expect(await job.getState()).toBe('waiting');
    });
  });

  describe('when the worker keeps a copy of the paused tasks', () => {
    /** The view, fed the announcements of the queue's channel as a worker's subscriber would. */
    const watched = async () => {
      const view = new PausedTasksView(place);
      const subscriber = new Redis(redisUrl);
      const heard: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => {
        heard.push(message);
        view.take(message);
      });
      await subscriber.subscribe(pausedTasksChannel('bull', place.queue));
      await view.refresh();
      return { view, heard, close: () => subscriber.disconnect() };
    };

    it('should start a job of a task it knows runs without asking Redis', async () => {
      const { view, close } = await watched();
      try {
        await queue.add('report', { task: 'report' });
        const job = await take();
        const evalCalls: unknown[] = [];
        const evaluate = redis.eval.bind(redis);
        redis.eval = ((...args: Parameters<typeof redis.eval>) => {
          evalCalls.push(args[0]);
          return evaluate(...args);
        }) as typeof redis.eval;
        expect(await parkIfPaused(place, job, 'report', 'token-1', view)).toBe(false);
        expect(evalCalls).toEqual([]);
        expect(await job.getState()).toBe('active');
      } finally {
        close();
      }
    });

    it('should learn of a pause and a resume from their announcements, and park by what Redis holds', async () => {
      const { view, heard, close } = await watched();
      try {
        expect(view.mayBePaused('report')).toBe(false);
        await pauseTaskIn(place, 'report');
        await pauseTaskIn(place, 'audit');
        await waitUntilHeard(heard, 2);
        expect([view.mayBePaused('report'), view.mayBePaused('audit'), view.mayBePaused('other')]).toEqual([
          true,
          true,
          false,
        ]);
        await queue.add('report', { task: 'report' });
        const job = await take();
        expect(await parkIfPaused(place, job, 'report', 'token-1', view)).toBe(true);
        expect(await job.getState()).toBe('delayed');
        await resumeTaskIn(place, queue, 'report');
        await waitUntilHeard(heard, 3);
        expect([view.mayBePaused('report'), view.mayBePaused('audit')]).toEqual([false, true]);
        expect(await job.getState()).toBe('waiting');
      } finally {
        close();
      }
    });

    it('should keep the newest state, whatever order a read and an announcement arrive in', async () => {
      const view = new PausedTasksView(place);
      view.take('7 ["report"]');
      view.take('6 []');
      expect(view.mayBePaused('report')).toBe(true);
      view.take('8 []');
      expect(view.mayBePaused('report')).toBe(false);
      // Not an announcement: ignored.
      view.take('garbage');
      view.take('9 {"report":1}');
      expect(view.mayBePaused('report')).toBe(false);
    });

    it('should ask Redis for every task until it has read the set, and again once it lost its connection', async () => {
      const view = new PausedTasksView(place);
      expect(view.mayBePaused('report')).toBe(true);
      await view.refresh();
      expect(view.mayBePaused('report')).toBe(false);
      view.forget();
      expect(view.mayBePaused('report')).toBe(true);
      // A read sent before the loss could predate what was missed: it is dropped.
      const late = view.refresh();
      view.forget();
      await late;
      expect(view.mayBePaused('report')).toBe(true);
    });

    it('should start listening when its first read of the set fails, ask Redis meanwhile, and know after the next read', async () => {
      const view = new PausedTasksView(place);
      const evaluate = redis.eval.bind(redis);
      let failures = 1;
      redis.eval = ((...args: Parameters<typeof redis.eval>) => {
        if (failures-- > 0) return Promise.reject(new Error('Connection is closed.'));
        return evaluate(...args);
      }) as typeof redis.eval;
      const stop = await listenForSignals({
        connection: redisUrl,
        prefix: 'bull',
        queue: place.queue,
        running: new Map(),
        worker,
        paused: view,
      });
      try {
        expect(failures).toBe(0);
        expect(view.mayBePaused('report')).toBe(true);
        await queue.add('report', { task: 'report' });
        const job = await take();
        // Unknown copy: the job asks Redis (which holds no pause) and runs.
        expect(await parkIfPaused(place, job, 'report', 'token-1', view)).toBe(false);
        // The read the refresh timer makes every PAUSED_REFRESH ms.
        await view.refresh();
        expect(view.mayBePaused('report')).toBe(false);
      } finally {
        await stop();
      }
    });
  });
});

async function waitUntilHeard(heard: readonly string[], count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (heard.length < count) {
    if (Date.now() > deadline) throw new Error(`heard ${heard.length} announcements, not ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
