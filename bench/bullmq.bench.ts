// au on BullMQ against raw BullMQ, in one run (pnpm bench bullmq):
// 1. throughput: 20,000 trivial computations end to end at worker concurrency 50:
//    raw = Queue.addBulk + Worker; au = launchMany (RedisStore records + BullMQBackend
//    addBulk) + startBullMQWorker. Both rates and the ratio (goal ≥ 0.8).
// 2. latency: one computation at a time, launch → result, median of many (goal: au
//    within 1 ms of raw). Raw waits for the worker's `completed` event; au awaits
//    handle.result() (the RedisStore pushes the record over pub/sub).
// 3. references, to tell where au's cost goes: raw BullMQ whose producer and processor
//    also keep a minimal record in Redis by hand (HSET at add; HSET + PEXPIRE + PUBLISH
//    at the end: no claim, no indexes, no conditional write), and au with a MemoryStore
//    shared by producer and worker (au's own machinery, records off Redis).
// Needs Redis at AU_REDIS_URL (default redis://127.0.0.1:6379). Cleans up its keys.
// Smaller runs: pnpm bench bullmq --count=2000 --samples=50
import { randomUUID } from 'node:crypto';
import { type ComputationStore, defineTask, jsonCodec, MemoryStore, NO_RETRY, submitTask } from '@au/core';
import { type LaunchSettings, launchMany } from '@au/core/kit';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BullMQBackend, startBullMQWorker } from '../packages/backend-bullmq/src/index';
import { RedisStore } from '../packages/store-redis/src/index';
import { redisUrl as serviceRedisUrl } from '../packages/testing/src/service-url';

const redisUrl = serviceRedisUrl();
const argument = (name: string, fallback: number) =>
  Number(process.argv.find((item) => item.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const COUNT = argument('count', 20_000);
const CONCURRENCY = 50;
const LATENCY_SAMPLES = argument('samples', 300);
const run = randomUUID().slice(0, 8);

const double = defineTask({ name: 'bench.double', run: ({ n }: { n: number }) => n * 2 });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Raw BullMQ. With `persist`, the producer and the processor also keep a record per job
 * by hand, the least a result store needs: a hash written at add, its status and value
 * written at the end with an expiry and a notification.
 */
async function rawBullMQ(persist: boolean): Promise<{ rate: number; latency: number }> {
  const queueName = `bench-raw-${persist ? 'persist-' : ''}${run}`;
  const recordKey = (id: string) => `bench-raw-${run}:r:${id}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const records = new Redis(redisUrl, { enableAutoPipelining: true });
  const processJob = async (job: Job): Promise<number> => {
    const value = (job.data as { n: number }).n * 2;
    if (persist) {
      const key = recordKey(job.id!);
      await Promise.all([
        records.hset(key, 'status', '"completed"', 'value', String(value), 'finishedAt', String(Date.now())),
        records.pexpire(key, 86_400_000),
        records.publish(`${key}:c`, String(value)),
      ]);
    }
    return value;
  };
  const queue = new Queue(queueName, { connection });
  const waiters = new Map<string, () => void>();
  let completed = 0;
  let allDone: () => void = () => undefined;
  const worker = new Worker(queueName, processJob, {
    connection,
    concurrency: CONCURRENCY,
  });
  worker.on('completed', (job) => {
    completed += 1;
    waiters.get(job.id!)?.();
    if (completed === COUNT) allDone();
  });
  await worker.waitUntilReady();

  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const started = performance.now();
  const jobs = Array.from({ length: COUNT }, (_, n) => ({
    name: 'double',
    data: { n },
    opts: { removeOnComplete: true, removeOnFail: true, ...(persist ? { jobId: `j${n}` } : {}) },
  }));
  for (let start = 0; start < jobs.length; start += 5000) {
    const slice = jobs.slice(start, start + 5000);
    if (persist)
      await writeRecords(
        records,
        slice.map((job) => recordKey(job.opts.jobId!)),
        slice,
      );
    await queue.addBulk(slice);
  }
  await finished;
  const rate = COUNT / ((performance.now() - started) / 1000);

  const latencies: number[] = [];
  for (let sample = 0; sample < LATENCY_SAMPLES; sample++) {
    const id = `l${sample}`;
    const begin = performance.now();
    const done = new Promise<void>((resolve) => waiters.set(id, resolve));
    if (persist) await writeRecords(records, [recordKey(id)], [{ data: { n: sample } }]);
    await queue.add('double', { n: sample }, { jobId: id, removeOnComplete: true });
    await done;
    latencies.push(performance.now() - begin);
    waiters.delete(id);
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await deleteKeys(records, `bench-raw-${run}:r:*`);
  records.disconnect();
  connection.disconnect();
  return { rate, latency: median(latencies.slice(10)) };
}

async function writeRecords(redis: Redis, keys: string[], jobs: { data: { n: number } }[]): Promise<void> {
  const now = String(Date.now());
  const pipeline = redis.pipeline();
  for (const [index, job] of jobs.entries()) {
    pipeline.hset(keys[index]!, {
      task: '"bench.double"',
      status: '"pending"',
      args: JSON.stringify(JSON.stringify(job.data)),
      attempt: '0',
      maxAttempts: '1',
      createdAt: now,
    });
  }
  await pipeline.exec();
}

/** Removes this run's test keys (a SCAN is fine here: never a hot path). */
async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** au on BullMQ; `memory`: records in a MemoryStore shared by producer and worker. */
async function au(memory: boolean): Promise<{ rate: number; latency: number }> {
  const queueName = `bench-au-${memory ? 'memory-' : ''}${run}`;
  const prefix = `bench-au-${run}`;
  const store: ComputationStore = memory ? new MemoryStore() : new RedisStore({ redis: redisUrl, prefix });
  // The worker has a store of its own, as a worker process would: the producer's
  // subscriptions (handles waiting for results) do not hold up the worker's writes.
  const workerStore = memory ? store : new RedisStore({ redis: redisUrl, prefix });
  const backend = new BullMQBackend({ connection: redisUrl, queue: queueName });
  let completed = 0;
  let allDone: () => void = () => undefined;
  const worker = await startBullMQWorker({
    connection: redisUrl,
    queue: queueName,
    store: workerStore,
    tasks: [double],
    concurrency: CONCURRENCY,
    onOutcome: (_key, outcome) => {
      if (outcome.status !== 'completed') return;
      completed += 1;
      if (completed === COUNT) allDone();
    },
  });
  const settings: LaunchSettings = { store, backend, codec: jsonCodec, retry: NO_RETRY, middleware: [] };

  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const started = performance.now();
  const inputs = Array.from({ length: COUNT }, (_, n) => ({ n }));
  for (let start = 0; start < inputs.length; start += 5000) {
    await launchMany(double, inputs.slice(start, start + 5000), settings);
  }
  const launchedIn = performance.now() - started;
  await finished;
  console.log(
    `  (au: launchMany of ${COUNT} took ${(launchedIn / 1000).toFixed(1)} s of ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  const rate = COUNT / ((performance.now() - started) / 1000);

  const latencies: number[] = [];
  for (let sample = 0; sample < LATENCY_SAMPLES; sample++) {
    const begin = performance.now();
    const handle = await submitTask(double, { n: sample }, { store, backend });
    await handle.result({ timeout: 10_000 });
    latencies.push(performance.now() - begin);
  }
  await worker.close();
  await backend.queue.obliterate({ force: true });
  await backend.close();
  if (store instanceof RedisStore) {
    const redis = new Redis(redisUrl);
    await deleteKeys(redis, store.keys.pattern());
    redis.disconnect();
    await workerStore.close();
  }
  await store.close();
  return { rate, latency: median(latencies.slice(10)) };
}

console.log(`${COUNT} trivial computations, worker concurrency ${CONCURRENCY}, Redis ${redisUrl}`);
const raw = await rawBullMQ(false);
console.log(`raw BullMQ (addBulk + Worker):          ${raw.rate.toFixed(0)} computations/s`);
const ours = await au(false);
console.log(`au (launchMany + RedisStore + worker):   ${ours.rate.toFixed(0)} computations/s`);
console.log(`ratio au/raw: ${(ours.rate / raw.rate).toFixed(2)} (goal ≥ 0.8)`);
const persisted = await rawBullMQ(true);
const inMemory = await au(true);
console.log('references (where the cost goes):');
console.log(
  `  raw BullMQ + a minimal record kept by hand: ${persisted.rate.toFixed(0)} computations/s (ratio to raw ${(persisted.rate / raw.rate).toFixed(2)}; au/this ${(ours.rate / persisted.rate).toFixed(2)})`,
);
console.log(
  `  au with a MemoryStore (records off Redis):  ${inMemory.rate.toFixed(0)} computations/s (ratio to raw ${(inMemory.rate / raw.rate).toFixed(2)})`,
);
console.log(
  `median latency launch → result (${LATENCY_SAMPLES} sequential): raw ${raw.latency.toFixed(2)} ms, au ${ours.latency.toFixed(2)} ms, difference ${(ours.latency - raw.latency).toFixed(2)} ms (goal ≤ 1 ms)`,
);
process.exit(0);
