import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonCodec, NO_RETRY } from '@au/core';
import { type LaunchSettings, launchMany } from '@au/core/kit';
import { RedisStore } from '@au/store-redis';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../src/index';
import { squareTask } from './fixtures/chaos-tasks';
import { redisUp, redisUrl, TestResources } from './helpers';
import {
  goWorkerProcess,
  preloadWorkerProcess,
  startWorkerProcess,
  stopWorkerProcess,
} from './worker-processes';

const resources = new TestResources();
const directory = mkdtempSync(join(tmpdir(), 'au-chaos-'));
afterAll(async () => {
  if (redisUp) await resources.cleanup();
  rmSync(directory, { recursive: true, force: true });
});

const COUNT = 2000;

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when a worker process is SIGKILLed mid-run', () => {
    it(`should complete all ${COUNT} computations once each, with the right result`, async () => {
      const queue = resources.queue('chaos');
      const prefix = resources.prefix('chaos');
      const outcomes = join(directory, 'outcomes.log');
      const marks = join(directory, 'running');
      mkdirSync(marks);
      // Short locks so that the dead worker's jobs come back within a few seconds.
      const workerEnv = {
        AU_REDIS_URL: redisUrl,
        AU_QUEUE: queue,
        STORE_PREFIX: prefix,
        OUTCOME_FILE: outcomes,
        CONCURRENCY: '10',
        LOCK_DURATION: '2000',
        STALLED_INTERVAL: '1000',
        CHAOS_MARK_DIR: marks,
      };
      // Three workers, plus the process that will be "started again" after the kill:
      // it loads its modules now (seconds on a busy machine) and takes jobs only then.
      const [workers, spare] = await Promise.all([
        Promise.all([0, 1, 2].map(() => startWorkerProcess(workerEnv))),
        preloadWorkerProcess(workerEnv),
      ]);
      const store = new RedisStore({ redis: redisUrl, prefix });
      const backend = new BullMQBackend({ connection: redisUrl, queue });
      let restarted: Promise<void> | undefined;
      try {
        const settings: LaunchSettings = {
          store,
          backend,
          codec: jsonCodec,
          retry: NO_RETRY,
          middleware: [],
        };
        // Four batches of 500 launched side by side (each one addBulk).
        const batches = await Promise.all(
          [0, 1, 2, 3].map((batch) =>
            launchMany(
              squareTask,
              Array.from({ length: COUNT / 4 }, (_, index) => ({ n: batch * (COUNT / 4) + index, ms: 30 })),
              settings,
            ),
          ),
        );
        const keys = batches.flat().map(({ key }) => key);
        const completedCount = async () => {
          let total = 0;
          let cursor: string | undefined;
          do {
            const page = await store.list({
              status: 'completed',
              limit: 1000,
              ...(cursor === undefined ? {} : { cursor }),
            });
            total += page.records.length;
            cursor = page.cursor;
          } while (cursor !== undefined);
          return total;
        };

        // Kill one worker while it runs at least 3 computations (it has finished 50 already and the
        // queue is far from empty), then start it again.
        const victim = workers[0]!;
        const victimPid = String(victim.pid);
        const outcomesOf = (pid: string) =>
          readFileSync(outcomes, 'utf8')
            .split('\n')
            .filter((line) => line.endsWith(` ${pid}`)).length;
        const runningOn = (pid: string) =>
          readdirSync(marks)
            .filter((name) => name.startsWith(`${pid}-`))
            .map((name) => name.slice(pid.length + 1));
        while (!existsSync(outcomes) || outcomesOf(victimPid) < 50 || runningOn(victimPid).length < 3) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const killed = new Promise((resolve) => victim.once('exit', resolve));
        victim.kill('SIGKILL');
        await killed;
        // What the victim was running when it died: claimed, result not yet written.
        const interrupted = runningOn(victimPid);
        expect(interrupted.length).toBeGreaterThan(0);
        // Started again at once; the others carry on meanwhile.
        restarted = goWorkerProcess(spare);

        const deadline = Date.now() + 45_000;
        while ((await completedCount()) < COUNT && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 500));
        }

        await restarted;
        const records = await Promise.all(keys.map((key) => store.get(key)));
        const lost = records.filter((record) => record === undefined || record.status !== 'completed');
        expect(lost.map((record) => `${record?.key}:${record?.status}`)).toEqual([]);
        records.forEach((record, n) => {
          expect((record!.value as { square: number }).square).toBe(n * n);
        });

        // Who wrote a completion: never two writers for one key.
        const writers = new Map<string, string[]>();
        for (const line of readFileSync(outcomes, 'utf8').split('\n')) {
          const [key, status, pid] = line.split(' ');
          if (key === undefined || status !== 'completed' || pid === undefined) continue;
          writers.set(key, [...(writers.get(key) ?? []), pid]);
        }
        const doubled = [...writers].filter(([, pids]) => pids.length > 1);
        expect(doubled).toEqual([]);
        // The interrupted computations were claimed again and finished by another process.
        for (const key of interrupted) {
          const record = records[keys.indexOf(key)]!;
          expect(record.attempt, key).toBeGreaterThanOrEqual(2);
          expect(String((record.value as { pid: number }).pid)).not.toBe(victimPid);
        }
        // Each value was written by the run that won: it names a live or the dead process.
        const byPid = new Set(records.map((record) => String((record!.value as { pid: number }).pid)));
        expect(byPid.size).toBeGreaterThanOrEqual(3);
        expect(byPid.has(victimPid)).toBe(true);
      } finally {
        await restarted?.catch(() => undefined);
        await Promise.all([...workers, spare].map(stopWorkerProcess));
        await backend.close();
        await store.close();
      }
    }, 60_000);
  });
});
