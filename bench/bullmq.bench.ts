// au on BullMQ against raw BullMQ 6, in one run with alternating rounds (raw, au, the
// two references, raw, au, …; medians) (pnpm bench bullmq):
// 1. throughput: 20,000 trivial computations end to end at worker concurrency 50, from
//    the first add to the last completion: raw = Queue.addBulk + Worker (concurrency 50,
//    completed jobs kept, so that `job.returnvalue` stays retrievable, as BullMQ does by
//    default: https://docs.bullmq.io/guide/queues/auto-removal-of-jobs); au =
//    `compute.map` (RedisStore records + BullMQBackend addBulk) + startBullMQWorker.
//    Both rates and the ratio (goal ≥ 0.8). Redis commands per computation: the
//    `INFO commandstats` delta over the run / computations (every client of the server:
//    run it on a Redis of its own for clean counts, e.g. AU_REDIS_URL=redis://127.0.0.1:6390),
//    and the CPU µs per computation of the Redis server (`INFO cpu`) and of this process
//    (producer and worker): which side a gap comes from.
// 2. latency, from the producer: one computation at a time, add → result held by the
//    producer, median and p95 (goal: au within 0.5 ms of raw). Raw: `job.waitUntilFinished`
//    on a QueueEvents (BullMQ's way for a producer to await a result,
//    https://docs.bullmq.io/guide/jobs/getters and /guide/events); au: `handle.result()`
//    (the RedisStore pushes the record over pub/sub).
// 3. references, to tell where au's cost goes: raw BullMQ whose producer and processor
//    also keep a minimal record in Redis by hand (HSET at add; HSET + PEXPIRE + PUBLISH
//    at the end: no claim, no indexes, no conditional write), and au with a MemoryStore
//    shared by producer and worker (au's own machinery, records off Redis).
// Needs Redis at AU_REDIS_URL (default redis://127.0.0.1:6379). Cleans up its keys.
// Smaller runs: pnpm bench bullmq --count=2000 --samples=50 --rounds=1
import { randomUUID } from 'node:crypto';
import { BullMQBackend, startBullMQWorker } from '@au/backend-bullmq';
import { asyncCompute, type ComputationStore, defineTask, MemoryStore } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { redisUrl as serviceRedisUrl } from '@au/testing';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { alternate, argument, loadAverage, median, percentile, perSecond } from './measure';

const redisUrl = serviceRedisUrl();
const COUNT = argument('count', 20_000);
const CONCURRENCY = 50;
const LATENCY_SAMPLES = argument('samples', 300);
const ROUNDS = argument('rounds', 2);
let run = randomUUID().slice(0, 8);

const double = defineTask({ name: 'bench.double', run: ({ n }: { n: number }) => n * 2 });

/** Per computation over the throughput run (Redis figures count every client of the server). */
interface Usage {
  commandsPerJob: number;
  redisCpuPerJob: number;
  nodeCpuPerJob: number;
}

interface Outcome extends Usage {
  /** Computations per second, first add → last completion. */
  rate: number;
  /** Milliseconds, add → result held by the producer, one at a time. */
  latencies: number[];
}

/** What the Redis server has done so far: commands run (`INFO commandstats`) and CPU seconds (`INFO cpu`). */
async function serverCounters(): Promise<{ commands: number; cpu: number }> {
  const redis = new Redis(redisUrl);
  const [commandStats, cpu] = await Promise.all([redis.info('commandstats'), redis.info('cpu')]);
  redis.disconnect();
  let commands = 0;
  for (const match of commandStats.matchAll(/calls=(\d+)/g)) commands += Number(match[1]);
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? Number.NaN);
  return { commands, cpu: seconds('used_cpu_user') + seconds('used_cpu_sys') };
}

/**
 * Starts counting what a throughput run costs; the returned function gives it per
 * computation: Redis commands, and CPU µs of the Redis server and of this process (the
 * producer and the worker), to tell which side a difference comes from.
 */
async function startUsage(): Promise<() => Promise<Usage>> {
  const server = await serverCounters();
  const node = process.cpuUsage();
  return async () => {
    const { user, system } = process.cpuUsage(node);
    const after = await serverCounters();
    return {
      commandsPerJob: (after.commands - server.commands) / COUNT,
      redisCpuPerJob: ((after.cpu - server.cpu) * 1e6) / COUNT,
      nodeCpuPerJob: (user + system) / COUNT,
    };
  };
}

/**
 * Raw BullMQ. With `persist`, the producer and the processor also keep a record per job
 * by hand, the least a result store needs: a hash written at add, its status and value
 * written at the end with an expiry and a notification.
 */
async function rawBullMQ(persist: boolean): Promise<Outcome> {
  run = randomUUID().slice(0, 8);
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
  let completed = 0;
  let allDone: () => void = () => undefined;
  const worker = new Worker(queueName, processJob, {
    connection,
    concurrency: CONCURRENCY,
  });
  worker.on('completed', () => {
    completed += 1;
    if (completed === COUNT) allDone();
  });
  await worker.waitUntilReady();

  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const usage = await startUsage();
  const started = performance.now();
  // Completed jobs are kept (BullMQ's default): their `returnvalue` is the result.
  const jobs = Array.from({ length: COUNT }, (_, n) => ({
    name: 'double',
    data: { n },
    opts: persist ? { jobId: `j${n}` } : {},
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
  const used = await usage();
  const [kept] = await queue.getCompleted(0, 0);
  if (kept === undefined || kept.returnvalue !== (kept.data as { n: number }).n * 2) {
    throw new Error('[bench] raw BullMQ: result not retrievable');
  }

  const eventsConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queueEvents = new QueueEvents(queueName, { connection: eventsConnection });
  await queueEvents.waitUntilReady();
  // Ready is before its first XREAD from `$`: a job finishing in between would be missed.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const latencies: number[] = [];
  for (let sample = 0; sample < LATENCY_SAMPLES; sample++) {
    const id = `l${sample}`;
    const begin = performance.now();
    if (persist) await writeRecords(records, [recordKey(id)], [{ data: { n: sample } }]);
    const job = await queue.add('double', { n: sample }, { jobId: id });
    const result = await job.waitUntilFinished(queueEvents, 10_000);
    latencies.push(performance.now() - begin);
    if (result !== sample * 2) throw new Error(`[bench] raw BullMQ: wrong result ${result}`);
  }
  await queueEvents.close();
  eventsConnection.disconnect();
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await deleteKeys(records, `bench-raw-${run}:r:*`);
  records.disconnect();
  connection.disconnect();
  return { rate, ...used, latencies: latencies.slice(10) };
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
async function au(memory: boolean): Promise<Outcome> {
  run = randomUUID().slice(0, 8);
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
  const compute = asyncCompute(double, { store, backend });

  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const usage = await startUsage();
  const started = performance.now();
  const inputs = Array.from({ length: COUNT }, (_, n) => [{ n }] as [{ n: number }]);
  let first: string | undefined;
  for (let start = 0; start < inputs.length; start += 5000) {
    const handles = await compute.map(inputs.slice(start, start + 5000));
    first ??= handles[7]!.key;
  }
  await finished;
  const rate = COUNT / ((performance.now() - started) / 1000);
  const used = await usage();
  if ((await store.get(first!))?.status !== 'completed')
    throw new Error('[bench] au: result not retrievable');

  const latencies: number[] = [];
  for (let sample = 0; sample < LATENCY_SAMPLES; sample++) {
    const begin = performance.now();
    const handle = await compute({ n: sample });
    const result = await handle.result({ timeout: 10_000 });
    latencies.push(performance.now() - begin);
    if (result !== sample * 2) throw new Error(`[bench] au: wrong result ${result}`);
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
  return { rate, ...used, latencies: latencies.slice(10) };
}

console.log(
  `bullmq: ${COUNT.toLocaleString('en-US')} trivial computations, worker concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds, Redis ${redisUrl}`,
);
console.log(`start: ${loadAverage()}`);
const sides = {
  raw: () => rawBullMQ(false),
  au: () => au(false),
  'raw + record': () => rawBullMQ(true),
  'au + memory': () => au(true),
};
type SideName = keyof typeof sides;
const rounds = await alternate(ROUNDS, sides, (name, round, outcome) =>
  console.log(
    `  round ${round} ${name.padEnd(12)} ${perSecond(outcome.rate).padStart(9)}  ${outcome.commandsPerJob.toFixed(1)} commands/job  CPU µs/job Redis ${outcome.redisCpuPerJob.toFixed(0)} Node ${outcome.nodeCpuPerJob.toFixed(0)}  latency median ${median(outcome.latencies).toFixed(2)} ms  ${loadAverage()}`,
  ),
);
const rate = (name: SideName) => median(rounds[name].map((outcome) => outcome.rate));
const perJob = (name: SideName, figure: keyof Usage) =>
  median(rounds[name].map((outcome) => outcome[figure]));
const latencies = (name: SideName) => rounds[name].flatMap((outcome) => outcome.latencies);
console.log(`medians of ${ROUNDS} rounds (latency: ${LATENCY_SAMPLES - 10} samples a round):`);
const labels: Record<SideName, string> = {
  raw: 'raw BullMQ (addBulk + Worker)',
  au: 'au (map + RedisStore + worker)',
  'raw + record': 'reference: raw + a minimal record by hand',
  'au + memory': 'reference: au with a MemoryStore',
};
for (const name of Object.keys(sides) as SideName[]) {
  console.log(
    `  ${labels[name].padEnd(42)} ${perSecond(rate(name)).padStart(9)}  ${perJob(name, 'commandsPerJob').toFixed(1)} commands/job  CPU µs/job Redis ${perJob(name, 'redisCpuPerJob').toFixed(0)} Node ${perJob(name, 'nodeCpuPerJob').toFixed(0)}  latency median ${median(latencies(name)).toFixed(2)} ms, p95 ${percentile(latencies(name), 0.95).toFixed(2)} ms`,
  );
}
console.log(`  ratio au / raw: ${(rate('au') / rate('raw')).toFixed(2)} (goal ≥ 0.8)`);
console.log(
  `  ratio au / raw + record: ${(rate('au') / rate('raw + record')).toFixed(2)}; au + memory / raw: ${(rate('au + memory') / rate('raw')).toFixed(2)}`,
);
console.log(
  `  median latency difference au − raw: ${(median(latencies('au')) - median(latencies('raw'))).toFixed(2)} ms (goal ≤ 0.5 ms)`,
);
console.log(`end: ${loadAverage()}`);
process.exit(0);
