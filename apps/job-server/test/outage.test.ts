import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JobServerChild,
  type ServerProcess,
  startServerProcess,
  startWorkerProcess,
} from './server-process';

// The job server and a worker over a Redis of their own (with an append-only file, as a
// Redis that keeps its data would), which is stopped for two seconds and started again.
const redisUp = await requireService('redis');

describe.runIf(redisUp)('job server on BullMQ when Redis stops for two seconds', () => {
  let directory: string;
  let redis: RedisServer;
  let server: ServerProcess;
  let worker: JobServerChild;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'au-outage-'));
    redis = await RedisServer.create({ appendOnlyDirectory: directory });
    await redis.start();
    const env = {
      AU_STORE: redis.url,
      AU_BACKEND: 'bullmq',
      AU_LOG_LEVEL: 'warn',
      // A job the worker took as Redis died (its reply lost) waits for BullMQ's stalled
      // check: lock expiry, then up to two checks (about a minute with the defaults).
      AU_BULLMQ_LOCK_DURATION_MS: '4000',
      AU_BULLMQ_STALLED_INTERVAL_MS: '1000',
    };
    [server, worker] = await Promise.all([startServerProcess(env), startWorkerProcess(env)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([server?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
    await redis?.kill();
    await rm(directory, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('should answer 503 with Retry-After (never 500) while it is down, and lose nothing', async () => {
    const before = await post('/factorial?wait=30', { n: 20 });
    expect(before.status).toBe(200);
    const { taskId } = (await before.json()) as { taskId: string };
    const queued = (await (await post('/sleep?async=true', { seconds: 0.5 })).json()) as { taskId: string };

    await redis.kill();
    const answers = new Map<string, number[]>();
    const ask = async (name: string, request: () => Promise<Response>) => {
      const response = await request();
      await response.arrayBuffer();
      answers.set(name, [...(answers.get(name) ?? []), response.status]);
      if (response.status === 503 && name !== 'readyz') expect(response.headers.get('retry-after')).toBe('2');
    };
    const downUntil = Date.now() + 2000;
    while (Date.now() < downUntil) {
      await Promise.all([
        ask('status', () => fetch(`${server.url}/tasks/${taskId}`)),
        ask('list', () => fetch(`${server.url}/tasks?limit=5`)),
        ask('submit', () => post('/factorial?async=true', { n: 5 })),
        ask('healthz', () => fetch(`${server.url}/healthz`)),
        ask('readyz', () => fetch(`${server.url}/readyz`)),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await redis.start();

    const seen = [...answers.values()].flat();
    expect(seen).not.toContain(500);
    expect(answers.get('healthz')!.every((status) => status === 200)).toBe(true);
    expect(answers.get('readyz')).toContain(503);
    for (const name of ['status', 'list', 'submit']) {
      expect(answers.get(name)!.every((status) => status === 503 || status < 300)).toBe(true);
      expect(answers.get(name)).toContain(503);
    }

    // Back: what was there is there, what was queued runs, new work runs.
    const deadline = Date.now() + 60_000;
    let readyz = 0;
    while (readyz !== 200 && Date.now() < deadline) {
      readyz = (await fetch(`${server.url}/readyz`)).status;
      if (readyz !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(readyz).toBe(200);
    const kept = await fetch(`${server.url}/tasks/${taskId}/result`);
    expect(await kept.json()).toMatchObject({ result: '2432902008176640000' });
    const slept = await fetch(`${server.url}/tasks/${queued.taskId}/result?wait=60`);
    expect(slept.status).toBe(200);
    expect(await slept.json()).toMatchObject({ result: { slept: 0.5 } });
    const after = await post('/factorial?wait=30', { n: 10 });
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ result: '3628800' });
  }, 150_000);
});
