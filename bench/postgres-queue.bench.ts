// PostgresQueueBackend against pg-boss on the same PostgreSQL: 10,000 trivial jobs,
// the same concurrency (100 at once: pg-boss 12 runs 100 workers of batch 1, each of
// which waits its polling interval (0.5 s, its minimum) between two fetches), one run. Each side enqueues everything first, then
// its workers start and the clock runs until every job is done. Prints both rates and
// the ratio au / pg-boss (> 1: au is faster).
import { randomBytes } from 'node:crypto';
import { defineTask, jsonCodec, NO_RETRY } from '@au/core';
import { launchMany } from '@au/core/kit';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { PostgresQueueBackend } from '../packages/backend-supabase/src/index';
import { applyMigration, PostgresStore } from '../packages/store-supabase/src/index';
import { postgresUrl } from '../packages/testing/src/service-url';

const url = postgresUrl();
// `pnpm bench postgres-queue [jobs] [concurrency]`
const JOBS = Number(process.argv[2] ?? 10_000);
const CONCURRENCY = Number(process.argv[3] ?? 100);
const CONNECTIONS = 20;

const trivial = defineTask({ name: 'bench.trivial', run: ({ n }: { n: number }) => n + 1 });

async function benchAu(): Promise<{ enqueue: number; process: number }> {
  const schema = `au_bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS });
  await applyMigration(pool, { schema });
  try {
    const store = new PostgresStore({ connection: pool, schema, watch: false });
    const producer = new PostgresQueueBackend({ connection: pool, schema, worker: false, store });
    const settings = { store, backend: producer, codec: jsonCodec, retry: NO_RETRY, middleware: [] };
    const enqueueStart = performance.now();
    const chunk = 500;
    const chunks: Promise<unknown>[] = [];
    for (let start = 0; start < JOBS; start += chunk) {
      const args = Array.from({ length: Math.min(chunk, JOBS - start) }, (_, index) => ({
        n: start + index,
      }));
      chunks.push(launchMany(trivial, args, settings));
      if (chunks.length === 16) await Promise.all(chunks.splice(0));
    }
    await Promise.all(chunks);
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;

    const processStart = performance.now();
    const worker = new PostgresQueueBackend({
      connection: pool,
      schema,
      store,
      tasks: [trivial],
      maxConcurrentTasks: CONCURRENCY,
      pollingInterval: 500,
    });
    for (;;) {
      const stats = await producer.queue.stats();
      if ((stats.completed ?? 0) >= JOBS) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const processSeconds = (performance.now() - processStart) / 1000;
    await worker.close();
    await producer.close();
    return { enqueue: JOBS / enqueueSeconds, process: JOBS / processSeconds };
  } finally {
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.end();
  }
}

async function benchPgBoss(): Promise<{ enqueue: number; process: number }> {
  const schema = `pgboss_bench_${randomBytes(4).toString('hex')}`;
  const boss = new PgBoss({
    connectionString: url,
    schema,
    max: CONNECTIONS,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => undefined);
  await boss.start();
  try {
    const queue = 'bench';
    await boss.createQueue(queue);
    const enqueueStart = performance.now();
    const chunk = 1000;
    for (let start = 0; start < JOBS; start += chunk) {
      await boss.insert(
        queue,
        Array.from({ length: Math.min(chunk, JOBS - start) }, (_, index) => ({ data: { n: start + index } })),
      );
    }
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;

    let done = 0;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const processStart = performance.now();
    for (let index = 0; index < CONCURRENCY; index++) {
      await boss.work<{ n: number }>(
        queue,
        { batchSize: 1, pollingIntervalSeconds: 0.5 },
        async ([job]: { data: { n: number } }[]) => {
          const result = job!.data.n + 1;
          done += 1;
          if (done >= JOBS) finish();
          return result;
        },
      );
    }
    await finished;
    const processSeconds = (performance.now() - processStart) / 1000;
    return { enqueue: JOBS / enqueueSeconds, process: JOBS / processSeconds };
  } finally {
    await boss.stop({ graceful: false }).catch(() => undefined);
    const pool = new pg.Pool({ connectionString: url });
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.end();
  }
}

const boss = await benchPgBoss();
const au = await benchAu();
const format = (value: number) => `${Math.round(value).toLocaleString('en-US')} jobs/s`;
console.log(
  `postgres-queue: ${JOBS} trivial jobs, concurrency ${CONCURRENCY}, ${CONNECTIONS} connections each, same PostgreSQL`,
);
console.log(`  pg-boss      enqueue ${format(boss.enqueue)}   process ${format(boss.process)}`);
console.log(`  au postgres  enqueue ${format(au.enqueue)}   process ${format(au.process)}`);
console.log(`  ratio au / pg-boss (processing): ${(au.process / boss.process).toFixed(2)}`);
console.log(
  `  ratio au / pg-boss (enqueue, au also writes the result record): ${(au.enqueue / boss.enqueue).toFixed(2)}`,
);
process.exit(0);
