import { randomUUID } from 'node:crypto';
import { AuHttpError } from '@au/client';
import { RedisStore } from '@au/store-redis';
import { requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import { explainPauseError } from '../src/commands/paused/explain-pause-error';
import { captureIo } from './capture-io';
import { type JobServerProcess, startJobServer } from './job-server-process';

const redisUrl = process.env.AU_REDIS_URL || 'redis://127.0.0.1:6379';
const redisUp = await requireService('redis', redisUrl);

// The job server on BullMQ (a backend that pauses), with no worker: what is launched stays pending.
describe.runIf(redisUp)('au pause, au resume, au paused', () => {
  const queue = `au-test-cli-pause-${randomUUID().slice(0, 8)}`;
  const prefix = `au-test-cli-pause-${randomUUID().slice(0, 8)}`;
  let server: JobServerProcess;

  beforeAll(async () => {
    server = await startJobServer({
      AU_BACKEND: 'bullmq',
      AU_QUEUE: queue,
      AU_STORE: redisUrl,
      AU_REDIS_PREFIX: prefix,
    });
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    const store = new RedisStore({ redis: redisUrl, prefix });
    try {
      for (const pattern of [`bull:${queue}:*`, `${prefix}*`, `{${prefix}}*`]) {
        const keys = await store.redis.keys(pattern);
        if (keys.length > 0) await store.redis.del(...keys);
      }
    } finally {
      await store.close();
    }
  });

  async function au(...argv: string[]) {
    const io = captureIo();
    const code = await runCli(argv, { io, env: { AU_URL: server.url } });
    return { code, stdout: io.stdout, stderr: io.stderr };
  }

  describe('when a task is paused and resumed', () => {
    it('should say so, show its waiting computations paused, and list nothing paused after resume', async () => {
      expect(await au('paused')).toMatchObject({ code: 0, stdout: 'queue: running\ntasks paused: none\n' });

      const paused = await au('pause', 'factorial');
      expect(paused.code).toBe(0);
      expect(paused.stdout).toBe('queue: running\ntasks paused: factorial\n');
      expect(paused.stderr).toContain('paused task factorial: its waiting computations stay pending');

      const submitted = await au('submit', 'factorial', 'n=5', '--async');
      expect(submitted.code).toBe(0);
      const id = submitted.stdout.trim();
      const status = await au('status', id);
      expect(status.stdout).toMatch(/status\s+pending \(paused: waits for au resume\)/);
      const listed = JSON.parse((await au('list', '--json')).stdout) as {
        items: { taskId: string; paused?: boolean }[];
      };
      expect(listed.items.find((item) => item.taskId === id)?.paused).toBe(true);

      const resumed = await au('resume', 'factorial', '--json');
      expect(resumed.code).toBe(0);
      expect(JSON.parse(resumed.stdout)).toEqual({ queue: false, tasks: [] });
      expect(JSON.parse((await au('status', id, '--json')).stdout).paused).toBeUndefined();
    });
  });

  describe('when the whole queue is paused and resumed', () => {
    it('should report the queue paused, then running', async () => {
      const paused = await au('pause');
      expect(paused.code).toBe(0);
      expect(paused.stdout).toBe('queue: paused (no task starts)\ntasks paused: none\n');
      expect(JSON.parse((await au('paused', '--json')).stdout)).toEqual({ queue: true, tasks: [] });
      expect((await au('resume')).stdout).toBe('queue: running\ntasks paused: none\n');
    });
  });
});

describe('explainPauseError', () => {
  describe('when the server cannot pause', () => {
    it('should be a usage error (exit 2) that says so, not an outage', () => {
      const error = new AuHttpError({
        status: 501,
        body: { error: { code: 'PAUSE_UNSUPPORTED', message: 'no pause here' } },
        method: 'GET',
        url: '/pauses',
      });
      const explained = explainPauseError(error, { url: 'http://x', apiKey: undefined });
      expect(explained.exitCode).toBe(2);
      expect(explained.message).toContain('the server at http://x cannot pause');
    });
  });
});
