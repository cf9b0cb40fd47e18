import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputationRecord, jsonCodec, NO_RETRY, type TaskDefinition } from '@au/core';
import { type LaunchSettings, launchMany } from '@au/core/kit';
import { RedisStore } from '@au/store-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowKey } from '../src/flow-gate';
import { BullMQBackend } from '../src/index';
import { type FlowInput, keyedTask, maxConcurrencyByGroup, ratedTask } from './fixtures/flow-tasks';
import { randomName, redisUp, redisUrl, TestResources } from './helpers';
import { startWorkerProcess, stopWorkerProcess } from './worker-processes';

const resources = new TestResources();
const directory = mkdtempSync(join(tmpdir(), 'au-bullmq-flow-'));
afterAll(async () => {
  if (redisUp) await resources.cleanup();
  rmSync(directory, { recursive: true, force: true });
});

const GROUPS = ['a', 'b', 'c'];
const LIMIT = 2;

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when tasks have concurrency keys and rate limits, with three worker processes', () => {
    const queue = resources.queue('flow');
    const prefix = resources.prefix('flow');
    const debugLog = join(directory, 'debug.log');
    // Short locks, so that a killed worker's slots lapse within seconds (the chaos case).
    const workerEnv = {
      AU_REDIS_URL: redisUrl,
      AU_QUEUE: queue,
      STORE_PREFIX: prefix,
      TASK_MODULES: new URL('./fixtures/flow-tasks.ts', import.meta.url).href,
      CONCURRENCY: '4',
      LOCK_DURATION: '2000',
      STALLED_INTERVAL: '1000',
      DEBUG_LOG_FILE: debugLog,
    };
    let workers: ChildProcess[] = [];
    let store: RedisStore;
    let backend: BullMQBackend;
    let redis: Redis;
    let settings: LaunchSettings;

    beforeAll(async () => {
      workers = await Promise.all([0, 1, 2].map(() => startWorkerProcess(workerEnv)));
      store = new RedisStore({ redis: redisUrl, prefix });
      backend = new BullMQBackend({ connection: redisUrl, queue });
      redis = new Redis(redisUrl);
      settings = { store, backend, codec: jsonCodec, retry: NO_RETRY, middleware: [] };
    }, 60_000);
    afterAll(async () => {
      await Promise.all(workers.map(stopWorkerProcess));
      await backend?.close();
      await store?.close();
      redis?.disconnect();
    });

    /** Launches `count` runs spread over the groups; returns their keys. */
    const launch = async (task: TaskDefinition, count: number, probe: string, ms: number) => {
      const inputs: FlowInput[] = Array.from({ length: count }, (_, n) => ({
        group: GROUPS[n % GROUPS.length]!,
        ms,
        probe,
      }));
      return (await launchMany(task, inputs, settings)).map(({ key }) => key);
    };

    /** Waits until every record ended; returns them. */
    const ended = async (keys: readonly string[], timeout = 90_000) => {
      const deadline = Date.now() + timeout;
      for (;;) {
        const records = await Promise.all(keys.map((key) => store.get(key)));
        const open = records.filter((record) => record === undefined || !isTerminal(record));
        if (open.length === 0) return records as ComputationRecord[];
        if (Date.now() > deadline) {
          throw new Error(
            `[test] ${open.length} computations did not end within ${timeout} ms: ${open
              .slice(0, 5)
              .map((record) => `${record?.key}:${record?.status}`)
              .join(', ')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };

    /** No slot is held and nobody waits in any group: nothing leaked. */
    const expectNoSlotHeld = async () => {
      const [seconds, micros] = await redis.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      for (const group of GROUPS) {
        const slots = flowKey({ prefix: 'bull', queue }, 'conc', `flow.keyed:${group}`);
        const waiting = flowKey({ prefix: 'bull', queue }, 'conc-waiting', `flow.keyed:${group}`);
        expect(await redis.zcount(slots, `(${now}`, '+inf'), `live slots of ${group}`).toBe(0);
        expect(await redis.zcard(waiting), `waiters of ${group}`).toBe(0);
      }
    };

    it('should never run more than the limit of one key at once, and reach it', async () => {
      const probe = randomName('probe');
      const keys = await launch(keyedTask, 36, probe, 150);
      const records = await ended(keys);
      expect(records.map((record) => record.status)).toEqual(keys.map(() => 'completed'));
      // Waiting for a slot claimed nothing: each record was claimed once, when it ran.
      expect(records.map((record) => record.attempt)).toEqual(keys.map(() => 1));
      // The three workers shared the work.
      const pids = new Set(records.map((record) => (record.value as { pid: number }).pid));
      expect(pids.size).toBeGreaterThanOrEqual(2);

      const max = maxConcurrencyByGroup(await redis.lrange(probe, 0, -1));
      console.log(`[flow] max concurrency observed per key (limit ${LIMIT}):`, Object.fromEntries(max));
      for (const group of GROUPS) expect(max.get(group), group).toBe(LIMIT);
      await expectNoSlotHeld();
      await redis.del(probe);
    }, 120_000);

    it('should start at most 3 per second across the workers, delaying the rest', async () => {
      const probe = randomName('probe');
      const keys = await launch(ratedTask, 10, probe, 50);
      const records = await ended(keys);
      expect(records.map((record) => record.status)).toEqual(keys.map(() => 'completed'));
      // Delayed by the rate limit, a record stays pending: it was claimed once, when it ran.
      expect(records.map((record) => record.attempt)).toEqual(keys.map(() => 1));
      // Each start as the gate admitted it (Redis clock), from the workers' debug lines.
      const ours = new Set(keys);
      const starts = readFileSync(debugLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { key?: string; at?: number; message: string })
        .filter((line) => line.key !== undefined && ours.has(line.key) && /may start/.test(line.message))
        .map((line) => line.at!)
        .sort((a, b) => a - b);
      expect(starts).toHaveLength(10);
      const gaps = starts.slice(3).map((time, n) => time - starts[n]!);
      console.log('[flow] ms between each start and the third start before it (≥ 1000):', gaps);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000);
      await redis.del(probe);
    }, 120_000);

    it('should complete the work of a SIGKILLed worker without leaking its slots or passing the limit', async () => {
      const probe = randomName('probe');
      const keys = await launch(keyedTask, 36, probe, 400);
      // Kill a worker while it runs a computation it began a moment ago (it holds a slot,
      // and the computation has most of its 400 ms left).
      const victim = workers[0]!;
      const victimPid = String(victim.pid);
      const deadline = Date.now() + 60_000;
      let seen = 0;
      for (;;) {
        const starts = (await redis.lrange(probe, 0, -1)).filter(
          (event) => event.startsWith('start ') && event.endsWith(` ${victimPid}`),
        ).length;
        if (starts > seen && seen > 0) break;
        seen = starts;
        if (Date.now() > deadline) throw new Error('[test] the victim never ran a computation');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const exited = new Promise((resolve) => victim.once('exit', resolve));
      victim.kill('SIGKILL');
      await exited;
      await redis.rpush(probe, `dead ${victimPid}`);

      const records = await ended(keys);
      expect(records.filter((record) => record.status !== 'completed').map((record) => record.key)).toEqual(
        [],
      );
      // What the victim was running was claimed again and completed elsewhere.
      const events = await redis.lrange(probe, 0, -1);
      const interrupted = events
        .filter((event) => event.startsWith('start ') && event.endsWith(` ${victimPid}`))
        .filter((event) => !events.includes(event.replace(/^start /, 'end ')))
        .map((event) => event.split(' ')[1]!);
      expect(interrupted.length).toBeGreaterThan(0);
      for (const key of interrupted) {
        const record = records[keys.indexOf(key)]!;
        expect(record.attempt, key).toBeGreaterThanOrEqual(2);
        expect(String((record.value as { pid: number }).pid)).not.toBe(victimPid);
      }
      // Only what the victim had claimed ran twice (it may have claimed one it had not
      // started yet): waiting for a slot claims nothing.
      const again = records.filter((record) => record.attempt > 1).length;
      expect(again).toBeGreaterThanOrEqual(interrupted.length);
      expect(again).toBeLessThanOrEqual(Number(workerEnv.CONCURRENCY));

      const max = maxConcurrencyByGroup(events);
      console.log(
        `[flow] max concurrency observed per key with a worker killed (limit ${LIMIT}):`,
        Object.fromEntries(max),
      );
      for (const group of GROUPS) expect(max.get(group), group).toBe(LIMIT);
      await expectNoSlotHeld();
    }, 150_000);
  });
});

function isTerminal(record: ComputationRecord): boolean {
  return record.status === 'completed' || record.status === 'failed' || record.status === 'cancelled';
}
