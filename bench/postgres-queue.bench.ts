// au's PostgresQueueBackend + PostgresStore against what a user would pick instead on
// PostgreSQL: pg-boss 12 and graphile-worker 0.18, each configured as its docs recommend
// for throughput, on the same PostgreSQL, in one run with alternating rounds
// (au, pg-boss, graphile-worker, au, …). Needs Node ≥ 22.18 (pg-boss 12 and
// graphile-worker 0.18 do): `pnpm bench postgres-queue` re-launches itself on Node 24
// through `npx -p node@24` when run on an older Node (see run.ts).
//
// Two modes, 10,000 trivial jobs (n → n + 1) at worker concurrency 50, workers running
// before the first enqueue, the clock running from the first enqueue to the moment the
// last result is stored:
// - bulk: the producer enqueues in batches of 1,000 (au `compute.map`, pg-boss
//   `insert`, graphile-worker `addJobs`);
// - single: every job is enqueued by its own call (au `compute(args)`, pg-boss `send`,
//   graphile-worker `addJob`), 50 calls in flight, as request handlers would.
// Then, on a fresh instance of each side, the producer-side latency of single jobs, one
// at a time (the workers idle, woken by LISTEN/NOTIFY on every side): from the enqueue call to
// the producer holding the result (au: `handle.result()`, which polls the store 5 ms,
// ×1.5, up to 500 ms; pg-boss: `getJobById` on the same schedule; graphile-worker: the
// result row on the same schedule).
//
// Results are retrievable on every side: au keeps records; pg-boss keeps completed jobs
// with their `output` (per-job results of a batch handler); graphile-worker has no result
// storage and deletes finished jobs, so its task writes the result into a table, a cost
// counted here as a user would pay it. Transactions per job: the `xact_commit` delta of
// the benchmark's own database (`au_bench`, created if missing) over a side's whole
// throughput run (its connections closed, so that their counts are reported), divided by
// the jobs. Goals (printed, not asserted): au ≥ 1.0× pg-boss in bulk mode,
// ≥ 1.2× in single mode, ≥ 1.5× graphile-worker in both; median latency no worse than
// pg-boss's.
//
// `pnpm bench postgres-queue [--jobs=10000] [--rounds=2] [--samples=40] [--sides=au,pg-boss,graphile-worker]`
import { randomBytes } from 'node:crypto';
import { PostgresQueueBackend } from '@au/backend-supabase';
import { asyncCompute, defineTask } from '@au/core';
import { applyMigration, PostgresStore } from '@au/store-supabase';
import { postgresUrl } from '@au/testing';
import { Logger, makeWorkerUtils, run as runGraphileWorker, type Task } from 'graphile-worker';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import {
  alternate,
  argument,
  inFlight,
  loadAverage,
  median,
  percentile,
  perSecond,
  pollFor,
} from './measure';

const JOBS = argument('jobs', 10_000);
const ROUNDS = argument('rounds', 2);
const LATENCY_SAMPLES = argument('samples', 40);
const CONCURRENCY = 50;
const BULK_CHUNK = 1000;
/** Enqueue calls in flight in single mode. */
const PRODUCERS = 50;
/** Pool size of each side's producer. */
const PRODUCER_CONNECTIONS = 20;
type Mode = 'bulk' | 'single';

interface Throughput {
  /** Jobs per second, first enqueue → last result stored. */
  rate: number;
  /** Seconds the enqueueing took. */
  enqueueSeconds: number;
  /**
   * Transactions committed in the database per job, over the side's whole run (setup and
   * teardown included: a few dozen, under 0.01 a job).
   */
  transactionsPerJob: number;
}

/** What each side provides to the common measurement. */
interface Side {
  /** Enqueues jobs `from` … `from + count - 1` in one bulk call. */
  enqueueBulk(from: number, count: number): Promise<void>;
  /** Enqueues job `n` by itself. */
  enqueueOne(n: number): Promise<void>;
  /** How many results are stored. */
  completed(): Promise<number>;
  /** Enqueues one job and resolves with its result, read the way a producer reads it. */
  roundTrip(n: number): Promise<number>;
  /** Checks a few stored results are retrievable and right. */
  check(): Promise<void>;
  close(): Promise<void>;
}

const databaseUrl = await benchDatabase();

async function benchDatabase(): Promise<string> {
  const url = new URL(postgresUrl());
  const base = new pg.Client({ connectionString: url.toString() });
  await base.connect();
  const exists = await base.query(`select 1 from pg_database where datname = 'au_bench'`);
  if (exists.rowCount === 0) await base.query('create database au_bench');
  await base.end();
  url.pathname = '/au_bench';
  return url.toString();
}

/** One statement on a connection of its own (setup, teardown, statistics). */
async function sql<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Transactions committed in the benchmark's database so far. A backend reports its
 * counts when it ends (and, idle, some seconds later): every side closes all its
 * connections before this is read again, so a delta covers the side's whole run.
 */
async function committedTransactions(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const [row] = await sql<{ xact_commit: string }>(
    'select xact_commit from pg_stat_database where datname = current_database()',
  );
  return Number(row!.xact_commit);
}

/** Throughput: jobs per second from the first enqueue to the last result stored. */
async function throughput(create: () => Promise<Side>, mode: Mode): Promise<Throughput> {
  const before = await committedTransactions();
  const side = await create();
  const started = performance.now();
  if (mode === 'bulk') {
    for (let from = 0; from < JOBS; from += BULK_CHUNK) {
      await side.enqueueBulk(from, Math.min(BULK_CHUNK, JOBS - from));
    }
  } else {
    await inFlight(JOBS, PRODUCERS, (n) => side.enqueueOne(n));
  }
  const enqueueSeconds = (performance.now() - started) / 1000;
  while ((await side.completed()) < JOBS) await new Promise((resolve) => setTimeout(resolve, 20));
  const rate = JOBS / ((performance.now() - started) / 1000);
  await side.check();
  await side.close();
  const transactions = (await committedTransactions()) - before;
  return { rate, enqueueSeconds, transactionsPerJob: transactions / JOBS };
}

/** Latency: milliseconds from the enqueue call to the producer holding the result, one job at a time. */
async function latency(create: () => Promise<Side>): Promise<number[]> {
  const side = await create();
  const latencies: number[] = [];
  for (let sample = 0; sample < LATENCY_SAMPLES + 5; sample++) {
    const begin = performance.now();
    const result = await side.roundTrip(sample);
    // The first few warm the connections up.
    if (sample >= 5) latencies.push(performance.now() - begin);
    if (result !== sample + 1) throw new Error(`[bench] wrong result ${result}`);
  }
  await side.close();
  return latencies;
}

const schemaName = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

// --- au: a producer (PostgresStore + a PostgresQueueBackend without workers) and a worker
// backend, as two processes would have them; both with their defaults (LISTEN/NOTIFY on).
const trivial = defineTask({ name: 'bench.trivial', run: ({ n }: { n: number }) => n + 1 });

async function au(): Promise<Side> {
  const schema = schemaName('au_bench');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: PRODUCER_CONNECTIONS });
  await applyMigration(pool, { schema });
  const store = new PostgresStore({ connection: pool, schema });
  const producer = new PostgresQueueBackend({ connection: pool, schema, worker: false, store });
  const worker = new PostgresQueueBackend({
    connection: databaseUrl,
    schema,
    tasks: [trivial],
    maxConcurrentTasks: CONCURRENCY,
  });
  await worker.ready();
  const compute = asyncCompute(trivial, { store, backend: producer });
  // Counts completed computations for the benchmark's clock (not a producer's read).
  const observer = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const keys: string[] = [];
  return {
    async enqueueBulk(from, count) {
      const handles = await compute.map(Array.from({ length: count }, (_, index) => [{ n: from + index }]));
      if (from === 0) keys.push(handles[0]!.key);
    },
    async enqueueOne(n) {
      const handle = await compute({ n });
      if (n === 0) keys.push(handle.key);
    },
    async completed() {
      // The same probe as the other sides': one count (`queue.stats()` counts every status).
      const { rows } = await observer.query<{ count: string }>(
        `select count(*) from ${schema}.au_results where queue = 'default' and queue_status = 'completed'`,
      );
      return Number(rows[0]!.count);
    },
    async roundTrip(n) {
      const handle = await compute({ n });
      return handle.result({ timeout: 60_000 });
    },
    async check() {
      const record = await store.get(keys[0]!);
      if (record?.status !== 'completed') throw new Error('[bench] au: result not retrievable');
    },
    async close() {
      await worker.close();
      await producer.close();
      await store.close();
      await observer.end();
      await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.end();
    },
  };
}

// --- pg-boss 12 (https://timgit.github.io/pg-boss/ , the `WorkOptions` JSDoc of its
// types): LISTEN/NOTIFY on (`useListenNotify` + a `notify` queue), batch fetching
// (`batchSize` 10 × `localConcurrency` 5 = 50 at once, `perJobResults` so that each job
// keeps its own output), `burstWhenBatchFull` (fetch again at once while batches come
// back full), `pollingIntervalSeconds` at its minimum 0.5. Completed jobs are kept
// (retrievable with `getJobById`) for its default retention. A producer instance and a
// worker instance, as two processes would have them.
async function pgBoss(): Promise<Side> {
  const schema = schemaName('pgboss_bench');
  const queue = 'bench';
  const producer = new PgBoss({ connectionString: databaseUrl, schema, max: PRODUCER_CONNECTIONS });
  const worker = new PgBoss({ connectionString: databaseUrl, schema, max: 20, useListenNotify: true });
  producer.on('error', (error) => console.error('[bench] pg-boss producer:', error));
  worker.on('error', (error) => console.error('[bench] pg-boss worker:', error));
  await producer.start();
  await producer.createQueue(queue, { notify: true });
  await worker.start();
  await worker.work<{ n: number }>(
    queue,
    {
      batchSize: 10,
      localConcurrency: CONCURRENCY / 10,
      perJobResults: true,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: 0.5,
    },
    async (jobs) => jobs.map((job) => ({ id: job.id, status: 'completed' as const, output: job.data.n + 1 })),
  );
  // Counts completed jobs for the benchmark's clock (not a producer's read).
  const observer = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const ids: string[] = [];
  const output = async (id: string) => {
    const job = await producer.getJobById<{ n: number }>(queue, id);
    // pg-boss stores a non-object output as `{ value }`.
    return job?.state === 'completed' ? (job.output as { value: number }).value : undefined;
  };
  return {
    async enqueueBulk(from, count) {
      const inserted = await producer.insert(
        queue,
        Array.from({ length: count }, (_, index) => ({ data: { n: from + index } })),
        // The producer keeps the ids, to read the results (au's `map` returns handles).
        { returnId: true },
      );
      if (from === 0) ids.push(inserted![0]!);
    },
    async enqueueOne(n) {
      const id = await producer.send(queue, { n });
      if (n === 0) ids.push(id!);
    },
    async completed() {
      const { rows } = await observer.query<{ count: string }>(
        `select count(*) from ${schema}.job where name = $1 and state = 'completed'`,
        [queue],
      );
      return Number(rows[0]!.count);
    },
    async roundTrip(n) {
      const id = (await producer.send(queue, { n }))!;
      return pollFor(() => output(id));
    },
    async check() {
      if ((await output(ids[0]!)) !== 1) throw new Error('[bench] pg-boss: result not retrievable');
    },
    async close() {
      await worker.stop({ graceful: true, timeout: 5_000 });
      await producer.stop({ graceful: true, timeout: 5_000 });
      await observer.end();
      await sql(`drop schema if exists ${schema} cascade`);
    },
  };
}

// --- graphile-worker 0.18 (https://worker.graphile.org/docs/performance and the
// `WorkerOptions` JSDoc of its types): `concurrency` 50, `maxPoolSize` concurrency + 2,
// the batching its performance page recommends for high throughput (`localQueue.size`
// concurrency + 1, `completeJobBatchDelay` 0), LISTEN/NOTIFY (always on) with the default
// 2 s poll as fallback. It deletes finished jobs and keeps no results: the task writes its
// result into a table keyed by job id.
async function graphileWorker(): Promise<Side> {
  const schema = schemaName('gw_bench');
  const results = `${schema}_results.results`;
  await sql(`create schema ${schema}_results`);
  await sql(`create table ${results} (job_id bigint primary key, value integer not null)`);
  const logger = new Logger(() => () => undefined);
  const producer = await makeWorkerUtils({
    connectionString: databaseUrl,
    schema,
    maxPoolSize: PRODUCER_CONNECTIONS,
    logger,
  });
  await producer.migrate();
  const task: Task = async (payload, helpers) => {
    const { n } = payload as { n: number };
    await helpers.query(`insert into ${results} (job_id, value) values ($1, $2)`, [helpers.job.id, n + 1]);
  };
  const runner = await runGraphileWorker({
    connectionString: databaseUrl,
    schema,
    concurrency: CONCURRENCY,
    maxPoolSize: CONCURRENCY + 2,
    noHandleSignals: true,
    crontab: '',
    logger,
    taskList: { trivial: task },
    preset: { worker: { localQueue: { size: CONCURRENCY + 1 }, completeJobBatchDelay: 0 } },
  });
  // Counts stored results for the benchmark's clock (not a producer's read).
  const observer = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const ids: string[] = [];
  const value = (id: string) =>
    producer.withPgClient(async (client) => {
      const { rows } = await client.query<{ value: number }>(
        `select value from ${results} where job_id = $1`,
        [id],
      );
      return rows[0]?.value;
    });
  return {
    async enqueueBulk(from, count) {
      const jobs = await producer.addJobs(
        Array.from({ length: count }, (_, index) => ({
          identifier: 'trivial',
          payload: { n: from + index },
        })),
      );
      if (from === 0) ids.push(jobs[0]!.id);
    },
    async enqueueOne(n) {
      const job = await producer.addJob('trivial', { n });
      if (n === 0) ids.push(job.id);
    },
    async completed() {
      const { rows } = await observer.query<{ count: string }>(`select count(*) from ${results}`);
      return Number(rows[0]!.count);
    },
    async roundTrip(n) {
      const job = await producer.addJob('trivial', { n });
      return pollFor(() => value(job.id));
    },
    async check() {
      if ((await value(ids[0]!)) !== 1) throw new Error('[bench] graphile-worker: result not retrievable');
    },
    async close() {
      await runner.stop();
      await producer.release();
      await observer.end();
      await sql(`drop schema if exists ${schema} cascade`);
      await sql(`drop schema if exists ${schema}_results cascade`);
    },
  };
}

const SIDES = { au, 'pg-boss': pgBoss, 'graphile-worker': graphileWorker } as const;
type SideName = keyof typeof SIDES;
/** `--sides=au,pg-boss` runs only those (to study one side); ratios need all three. */
const sidesArgument = process.argv.find((item) => item.startsWith('--sides='))?.slice('--sides='.length);
const NAMES = (sidesArgument?.split(',') ?? Object.keys(SIDES)).filter((name): name is SideName => {
  if (name in SIDES) return true;
  throw new Error(`[bench] no side "${name}": choose from ${Object.keys(SIDES).join(', ')}`);
});
type Round = { bulk: Throughput; single: Throughput; latencies: number[] };

console.log(
  `postgres-queue: ${JOBS.toLocaleString('en-US')} trivial jobs per run, worker concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds, Node ${process.version}, database au_bench`,
);
console.log(`start: ${loadAverage()}`);
const describe = (name: string, mode: string, outcome: Throughput) =>
  `  ${name.padEnd(15)} ${mode.padEnd(6)} ${perSecond(outcome.rate).padStart(9)} (enqueue ${outcome.enqueueSeconds.toFixed(2)} s, ${outcome.transactionsPerJob.toFixed(2)} tx/job)`;
const rounds = await alternate<SideName, Round>(
  ROUNDS,
  Object.fromEntries(
    NAMES.map((name) => [
      name,
      async (): Promise<Round> => {
        const bulk = await throughput(SIDES[name], 'bulk');
        console.log(describe(name, 'bulk', bulk));
        const single = await throughput(SIDES[name], 'single');
        console.log(describe(name, 'single', single));
        const latencies = await latency(SIDES[name]);
        console.log(
          `  ${name.padEnd(15)} latency median ${median(latencies).toFixed(1)} ms, p95 ${percentile(latencies, 0.95).toFixed(1)} ms   ${loadAverage()}`,
        );
        return { bulk, single, latencies };
      },
    ]),
  ) as Record<SideName, () => Promise<Round>>,
);

console.log(`\nmedians of ${ROUNDS} rounds; latency over ${ROUNDS} × ${LATENCY_SAMPLES} samples`);
const rate = (name: SideName, mode: Mode) => median(rounds[name].map((round) => round[mode].rate));
const transactions = (name: SideName, mode: Mode) =>
  median(rounds[name].map((round) => round[mode].transactionsPerJob));
const latencies = (name: SideName) => rounds[name].flatMap((round) => round.latencies);
for (const name of NAMES) {
  console.log(
    `  ${name.padEnd(15)} bulk ${perSecond(rate(name, 'bulk')).padStart(9)} (${transactions(name, 'bulk').toFixed(2)} tx/job)  single ${perSecond(rate(name, 'single')).padStart(9)} (${transactions(name, 'single').toFixed(2)} tx/job)  latency median ${median(latencies(name)).toFixed(1)} ms, p95 ${percentile(latencies(name), 0.95).toFixed(1)} ms`,
  );
}
if (NAMES.length < Object.keys(SIDES).length) {
  console.log(`end: ${loadAverage()} (ratios need every side)`);
  process.exit(0);
}
for (const mode of ['bulk', 'single'] as const) {
  const goal = mode === 'bulk' ? '1.0' : '1.2';
  console.log(
    `  ${mode}: au / pg-boss ${(rate('au', mode) / rate('pg-boss', mode)).toFixed(2)} (goal ≥ ${goal}), au / graphile-worker ${(rate('au', mode) / rate('graphile-worker', mode)).toFixed(2)} (goal ≥ 1.5)`,
  );
}
console.log(
  `  median latency: au ${median(latencies('au')).toFixed(1)} ms, pg-boss ${median(latencies('pg-boss')).toFixed(1)} ms (goal: au no worse), graphile-worker ${median(latencies('graphile-worker')).toFixed(1)} ms`,
);
console.log(`end: ${loadAverage()}`);
process.exit(0);
