import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parkedJobsKey, parkIfPaused, pauseTaskIn, resumeTaskIn } from '../src/paused-tasks';
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
});
