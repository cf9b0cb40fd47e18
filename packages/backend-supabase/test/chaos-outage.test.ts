import { defineTask, jsonCodec, NO_RETRY, type TaskLogger } from '@au/core';
import { launchMany } from '@au/core/kit';
import { PostgresStore } from '@au/store-supabase';
import { postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend, type QueueWorkerHandle, startPostgresWorker } from '../src/index';
import { startTcpProxy, type TcpProxy } from './fixtures/tcp-proxy';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');
const COUNT = 600;
const OUTAGE_MS = 2000;

/** Runs of each input that reached the end of the task (a success). */
const runs = new Map<number, number>();
const square = defineTask({
  name: 'outage.square',
  run: async ({ n }: { n: number }) => {
    await new Promise((resolve) => setTimeout(resolve, 40 + (n % 40)));
    runs.set(n, (runs.get(n) ?? 0) + 1);
    return n * n;
  },
});

describe.skipIf(!postgresUp)('PostgresQueueBackend through a database outage', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let proxy: TcpProxy;
  beforeAll(async () => {
    database = await freshSchema();
    const { hostname, port } = new URL(postgresUrl());
    proxy = await startTcpProxy({ host: hostname, port: Number(port || 5432) });
    // Counts every transition into `completed` and into `failed`.
    await database.pool.query(`
      create table ${database.schema}.chaos_transitions (key text not null, status text not null);
      create function ${database.schema}.chaos_count() returns trigger language plpgsql as $$
      begin
        if new.status in ('completed', 'failed') and old.status <> new.status then
          insert into ${database.schema}.chaos_transitions values (new.key, new.status);
        end if;
        return null;
      end $$;
      create trigger chaos_count after update on ${database.schema}.au_results
        for each row execute function ${database.schema}.chaos_count();`);
  });
  afterAll(async () => {
    await proxy?.close();
    await database?.drop();
  });

  const count = async (sql: string): Promise<number> =>
    Number((await database.pool.query(sql.replaceAll('$schema', database.schema))).rows[0].n);

  describe('when PostgreSQL is unreachable for 2 s in the middle of a run', () => {
    it('should complete every computation once, with the right value, and leave nothing pending', {
      timeout: 60_000,
    }, async () => {
      const url = proxy.through(postgresUrl());
      const warnings: string[] = [];
      const logger: TaskLogger = {
        debug: () => undefined,
        info: () => undefined,
        warn: (_fields, message) => warnings.push(String(message)),
        error: (_fields, message) => warnings.push(String(message)),
      };
      const workers: QueueWorkerHandle[] = [];
      const store = new PostgresStore({ connection: url, schema: database.schema });
      const producer = new PostgresQueueBackend({ connection: url, schema: database.schema, worker: false });
      try {
        for (let index = 0; index < 2; index++) {
          workers.push(
            await startPostgresWorker({
              connection: url,
              schema: database.schema,
              tasks: [square],
              maxConcurrentTasks: 20,
              pollingInterval: 100,
              leaseMs: 10_000,
              heartbeatInterval: 1000,
              logger,
            }),
          );
        }
        await (producer as { bind?: (s: unknown) => Promise<void> }).bind?.(store);
        const started = Date.now();
        const launched = await launchMany(
          square,
          Array.from({ length: COUNT }, (_, n) => ({ n })),
          { store, backend: producer, codec: jsonCodec, retry: NO_RETRY, middleware: [] },
        );
        const completed = () =>
          count(`select count(*) as n from $schema.au_results where status = 'completed'`);
        const deadline = Date.now() + 45_000;
        while ((await completed()) < COUNT * 0.3 && Date.now() < deadline) await sleep(20);

        const inFlight = workers.reduce((sum, worker) => sum + (worker.backend.worker?.runningCount ?? 0), 0);
        const completedBefore = await completed();
        proxy.cut();
        await sleep(OUTAGE_MS);
        proxy.restore();
        const cutConnections = proxy.cutConnections;
        while ((await completed()) < COUNT && Date.now() < deadline) await sleep(100);
        const elapsed = Date.now() - started;

        const { rows } = await database.pool.query<{ key: string; status: string; value: number }>(
          `select key, status, value from ${database.schema}.au_results`,
        );
        expect(rows).toHaveLength(COUNT);
        const byKey = new Map(rows.map((row) => [row.key, row]));
        const wrong = launched.filter(
          ({ key }, n) => byKey.get(key)?.status !== 'completed' || byKey.get(key)?.value !== n * n,
        );
        expect(wrong, 'computations not completed with n²').toEqual([]);
        const transitions = await database.pool.query<{ key: string; status: string; n: number }>(
          `select key, status, count(*)::int as n from ${database.schema}.chaos_transitions group by key, status`,
        );
        expect(
          transitions.rows.filter((row) => row.status !== 'completed' || row.n !== 1),
          'each record completed once, none failed',
        ).toEqual([]);
        expect(transitions.rows).toHaveLength(COUNT);
        const ranTwice = [...runs.values()].filter((times) => times > 1).length;
        expect(runs.size).toBe(COUNT);
        expect(ranTwice, 'no success was lost and run again').toBe(0);
        expect(
          await count(`select count(*)::int as n from $schema.au_tasks where status <> 'completed'`),
          'every queue row ended',
        ).toBe(0);
        // The outage hit work in flight: connections were cut and writes had to be retried.
        expect(inFlight).toBeGreaterThan(0);
        expect(cutConnections).toBeGreaterThan(0);
        expect(warnings.some((message) => /failed|trying again/.test(message))).toBe(true);
        const redelivered = await count(
          `select count(*)::int as n from $schema.au_tasks where lease_expiries > 0 or attempts > 1`,
        );
        console.info(
          `[chaos-outage] ${COUNT} computations in ${elapsed} ms; ${OUTAGE_MS} ms outage after ${completedBefore} completed ` +
            `with ${inFlight} in flight; ${cutConnections} connections cut; ${warnings.length} warnings; ` +
            `${redelivered} rows delivered twice; ${ranTwice} computations ran twice`,
        );
      } finally {
        proxy.restore();
        for (const worker of workers) await worker.close({ timeout: 5000 });
        await producer.close();
        await store.close();
      }
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
