import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputationRecord, defineTask, isTerminalStatus, jsonCodec, NO_RETRY } from '@au/core';
import { type LaunchSettings, launchMany, type StoreRetryOptions } from '@au/core/kit';
import { RedisStore } from '@au/store-redis';
import { RedisServer } from '@au/testing';
import { describe, expect, it } from 'vitest';
import { BullMQBackend, type BullMQWorker, startBullMQWorker } from '../src/index';
import { RecordingLogger, randomName, redisUp, waitFor } from './helpers';

const COUNT = 1000;
const OUTAGE = 2000;

/** Keys whose task returned, in this process: each must end `completed` with its value. */
const ranToEnd = new Set<string>();

const outageSquare = defineTask({
  name: 'outage.square',
  run: async ({ n, ms }: { n: number; ms: number }, context) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    ranToEnd.add(context.key);
    return n * n;
  },
});

const variants: { name: string; storeRetry?: StoreRetryOptions; evidence: RegExp }[] = [
  {
    name: 'the executor waits the outage out (storeRetry 30 s)',
    evidence: /trying again while the store is unreachable/,
  },
  {
    name: 'the store retry is shorter than the outage, so jobs go back to the queue',
    storeRetry: { timeout: 300 },
    evidence: /goes back to queue/,
  },
];

describe.runIf(redisUp)('backend-bullmq', () => {
  describe(`when Redis (queue and store, AOF fsync always) is SIGKILLed mid-run and back after ${OUTAGE} ms`, () => {
    for (const variant of variants) {
      it(`should end all ${COUNT} computations, each task that ran to the end completed with its value: ${variant.name}`, async () => {
        const directory = mkdtempSync(join(tmpdir(), 'au-outage-'));
        const redis = await RedisServer.create({ appendOnlyDirectory: directory });
        await redis.start();
        const prefix = randomName('outage');
        const queue = randomName('outage');
        const store = new RedisStore({ redis: redis.url, prefix });
        // The worker has a store object of its own, as a worker process has.
        const workerStore = new RedisStore({ redis: redis.url, prefix });
        const backend = new BullMQBackend({ connection: redis.url, queue });
        const logger = new RecordingLogger();
        let outcomes = 0;
        let stalled = 0;
        let worker: BullMQWorker | undefined;
        ranToEnd.clear();
        try {
          worker = await startBullMQWorker({
            connection: redis.url,
            queue,
            store: workerStore,
            tasks: [outageSquare],
            concurrency: 50,
            logger,
            giveBackDelay: 200,
            // A job moved to active whose reply the kill lost is held by nobody: it comes
            // back once its lock lapses, at the next stalled check. Short, to keep the test short.
            lockDuration: 4000,
            stalledInterval: 1000,
            ...(variant.storeRetry === undefined ? {} : { storeRetry: variant.storeRetry }),
            onOutcome: () => {
              outcomes += 1;
            },
          });
          worker.worker.on('stalled', () => {
            stalled += 1;
          });
          const settings: LaunchSettings = {
            store,
            backend,
            codec: jsonCodec,
            retry: NO_RETRY,
            middleware: [],
          };
          const launched = await launchMany(
            outageSquare,
            Array.from({ length: COUNT }, (_, n) => ({ n, ms: 40 + (n % 5) * 30 })),
            settings,
          );
          const keys = launched.map(({ key }) => key);

          await waitFor('a quarter of the computations to end', () =>
            outcomes >= COUNT / 4 ? true : undefined,
          );
          const endedBeforeKill = outcomes;
          await redis.kill();
          await new Promise((resolve) => setTimeout(resolve, OUTAGE));
          await redis.start();

          let records: (ComputationRecord | undefined)[] = [];
          try {
            await waitFor(
              'every record to end',
              async () => {
                try {
                  records = await Promise.all(keys.map((key) => store.get(key)));
                } catch {
                  return undefined; // the store reconnects
                }
                return records.every((record) => record !== undefined && isTerminalStatus(record.status))
                  ? true
                  : undefined;
              },
              40_000,
            );
          } catch (error) {
            console.error('[outage] not every record ended:', await describeStuck(records, backend, logger));
            throw error;
          }

          const byKey = new Map(records.map((record) => [record!.key, record!]));
          const notCompleted = keys
            .filter((key) => ranToEnd.has(key))
            .map((key) => byKey.get(key)!)
            .filter((record) => record.status !== 'completed')
            .map((record) => `${record.key}: ${record.status} ${record.error?.message ?? ''}`);
          expect(notCompleted).toEqual([]);
          const wrong = keys.filter(
            (key, n) => byKey.get(key)!.status === 'completed' && byKey.get(key)!.value !== n * n,
          );
          expect(wrong).toEqual([]);
          const failed = records
            .filter((record) => record!.status !== 'completed')
            .map((record) => `${record!.key}: ${record!.status} ${record!.error?.message ?? ''}`);
          expect(failed).toEqual([]);
          // The outage really hit work on its way.
          expect(endedBeforeKill).toBeLessThan(COUNT);
          expect(logger.find('warn', variant.evidence).length).toBeGreaterThan(0);
          const completed = records.filter((record) => record!.status === 'completed').length;
          console.info(
            `[outage] ${variant.name}: ${COUNT} computations, ${completed} completed, ${ranToEnd.size} ran to the end, ${endedBeforeKill} ended before the kill, ${logger.find('warn', /goes back to queue/).length} give-backs, ${stalled} stalled jobs handed out again, ${records.filter((record) => record!.attempt > 1).length} run more than once`,
          );
        } finally {
          await worker?.close({ timeout: 2000 });
          await backend.close();
          await Promise.all([store.close(), workerStore.close()]);
          await redis.kill();
          rmSync(directory, { recursive: true, force: true });
        }
      }, 60_000);
    }
  });
});

/** Where the computations that did not end are: their records, their jobs, the last warnings. */
async function describeStuck(
  records: readonly (ComputationRecord | undefined)[],
  backend: BullMQBackend,
  logger: RecordingLogger,
): Promise<string> {
  const statuses: Record<string, number> = {};
  for (const record of records)
    statuses[record?.status ?? 'missing'] = (statuses[record?.status ?? 'missing'] ?? 0) + 1;
  const stuck = records
    .filter((record) => record !== undefined && !isTerminalStatus(record.status))
    .slice(0, 3);
  const jobs = await Promise.all(
    stuck.map(async (record) => (await backend.queue.getJob(record!.key).catch(() => undefined))?.getState()),
  ).catch((error: unknown) => String(error));
  const counts = await backend.queue.getJobCounts().catch((error: unknown) => String(error));
  const warnings = logger.lines
    .filter((line) => line.level === 'warn' || line.level === 'error')
    .slice(-5)
    .map((line) => `${line.message} ${(line.fields.err as Error | undefined)?.message ?? ''}`);
  return JSON.stringify({ statuses, counts, stuck, jobs, warnings }, null, 1);
}
