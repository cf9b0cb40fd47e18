import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, type ComputationStatus, jsonCodec, NO_RETRY, submitTask } from '@au/core';
import { type LaunchSettings, launchMany } from '@au/core/kit';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../src/index';
import { squareTask } from './fixtures/chaos-tasks';
import { redisUp, redisUrl, TestResources } from './helpers';
import { startWorkerProcess, stopWorkerProcess } from './worker-processes';

const resources = new TestResources();
const directory = mkdtempSync(join(tmpdir(), 'au-bullmq-'));
afterAll(async () => {
  if (redisUp) await resources.cleanup();
  rmSync(directory, { recursive: true, force: true });
});

/** "key status pid" lines the worker processes wrote, by key. */
function readOutcomes(file: string): Map<string, { status: string; pid: string }[]> {
  const byKey = new Map<string, { status: string; pid: string }[]>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return byKey;
  }
  for (const line of text.split('\n')) {
    const [key, status, pid] = line.split(' ');
    if (key === undefined || status === undefined || pid === undefined) continue;
    byKey.set(key, [...(byKey.get(key) ?? []), { status, pid }]);
  }
  return byKey;
}

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when workers run in separate processes', () => {
    const queue = resources.queue('processes');
    const prefix = resources.prefix('processes');
    const outcomes = join(directory, 'processes.log');
    const workerEnv = {
      AU_REDIS_URL: redisUrl,
      AU_QUEUE: queue,
      STORE_PREFIX: prefix,
      OUTCOME_FILE: outcomes,
      CONCURRENCY: '5',
    };
    let workers: ChildProcess[] = [];
    let store: RedisStore;
    let backend: BullMQBackend;

    beforeAll(async () => {
      workers = await Promise.all([startWorkerProcess(workerEnv), startWorkerProcess(workerEnv)]);
      store = new RedisStore({ redis: redisUrl, prefix });
      backend = new BullMQBackend({ connection: redisUrl, queue });
    }, 30_000);
    afterAll(async () => {
      await Promise.all(workers.map(stopWorkerProcess));
      await backend?.close();
      await store?.close();
    });

    it('should run a batch launched with launchMany on both workers and deliver every result', async () => {
      const settings: LaunchSettings = { store, backend, codec: jsonCodec, retry: NO_RETRY, middleware: [] };
      const launched = await launchMany(
        squareTask,
        Array.from({ length: 60 }, (_, n) => ({ n, ms: 30 })),
        settings,
      );
      expect(launched).toHaveLength(60);
      const records = await Promise.all(
        launched.map(async ({ key }) => {
          for (let tries = 0; tries < 200; tries++) {
            const record = await store.get(key);
            if (record?.status === 'completed') return record;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          throw new Error(`computation ${key} did not complete`);
        }),
      );
      for (const [n, record] of records.entries())
        expect((record.value as { square: number }).square).toBe(n * n);
      const pids = new Set(records.map((record) => (record.value as { pid: number }).pid));
      expect(pids.size).toBe(2);
      expect(pids.has(process.pid)).toBe(false);
    });

    it('should let a handle in this process follow progress written by another process', async () => {
      const handle = await submitTask(
        conformanceTasks.progress,
        { values: [1, 2, 3], interval: 120 },
        { store, backend },
      );
      const progress: unknown[] = [];
      const statuses: ComputationStatus[] = [];
      for await (const event of handle.events()) {
        if (event.type === 'progress') progress.push(event.progress);
        else statuses.push(event.status);
      }
      expect(await handle.result({ timeout: 10_000 })).toBe(3);
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress.at(-1)).toBe(3);
      expect(statuses.at(-1)).toBe('completed');
    });

    it('should cancel an active job on the worker process that holds it', async () => {
      const handle = await submitTask(conformanceTasks.sleep, { ms: 30_000 }, { store, backend });
      for (let tries = 0; tries < 200 && (await handle.status()) !== 'running'; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await handle.status()).toBe('running');
      expect(await handle.cancel('stop it')).toBe(true);
      await expect(handle.result({ timeout: 5000 })).rejects.toSatisfy(CancelledError.isInstance);
      // The holding worker saw the broadcast: its executor ended the run as cancelled.
      let seen: { status: string }[] | undefined;
      for (let tries = 0; tries < 100; tries++) {
        seen = readOutcomes(outcomes).get(handle.key);
        if (seen !== undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(seen?.map((outcome) => outcome.status)).toEqual(['cancelled']);
      const record = await handle.record();
      expect(record.status).toBe('cancelled');
      expect(record.value).toBeUndefined();
    });
  });
});
