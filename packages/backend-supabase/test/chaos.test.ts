import { type ChildProcess, fork } from 'node:child_process';
import { jsonCodec, NO_RETRY } from '@au/core';
import { launchMany } from '@au/core/kit';
import { PostgresStore } from '@au/store-supabase';
import { postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend } from '../src/index';
import { square } from './fixtures/chaos-tasks';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');
const COUNT = 1000;

describe.skipIf(!postgresUp)('PostgresQueueBackend under chaos', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  const children = new Set<ChildProcess>();
  beforeAll(async () => {
    database = await freshSchema();
    // Counts every transition into `completed`: a record completed twice would count 2.
    await database.pool.query(`
      create table ${database.schema}.chaos_completions (key text not null);
      create function ${database.schema}.chaos_count() returns trigger language plpgsql as $$
      begin
        if new.status = 'completed' and old.status <> 'completed' then
          insert into ${database.schema}.chaos_completions values (new.key);
        end if;
        return null;
      end $$;
      create trigger chaos_count after update on ${database.schema}.au_results
        for each row execute function ${database.schema}.chaos_count();`);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await database?.drop();
  });

  const startWorker = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = fork(
        new URL('./fixtures/chaos-worker.ts', import.meta.url),
        [postgresUrl(), database.schema],
        {
          execArgv: ['--conditions=@au/source', '--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        },
      );
      children.add(child);
      child.once('message', () => resolve(child));
      child.once('error', reject);
      child.once('exit', () => children.delete(child));
    });

  const completedCount = async () =>
    Number(
      (
        await database.pool.query(
          `select count(*) as n from ${database.schema}.au_results where status = 'completed'`,
        )
      ).rows[0].n,
    );

  describe('when one of three worker processes is SIGKILLed mid-run and started again', () => {
    it('should complete all 1,000 computations once each with the right result', {
      timeout: 60_000,
    }, async () => {
      const store = new PostgresStore({ connection: database.pool, schema: database.schema, watch: false });
      const producer = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        worker: false,
        store,
      });
      const workers = await Promise.all([startWorker(), startWorker(), startWorker()]);
      const launched = await launchMany(
        square,
        Array.from({ length: COUNT }, (_, n) => ({ n })),
        { store, backend: producer, codec: jsonCodec, retry: NO_RETRY, middleware: [] },
      );
      const deadline = Date.now() + 50_000;
      while ((await completedCount()) < COUNT * 0.25 && Date.now() < deadline) await sleep(20);
      const victim = workers[0]!;
      victim.kill('SIGKILL');
      await new Promise((resolve) => victim.once('exit', resolve));
      await startWorker();
      while ((await completedCount()) < COUNT && Date.now() < deadline) await sleep(200);

      const { rows } = await database.pool.query<{
        key: string;
        status: string;
        value: number;
        attempt: number;
      }>(`select key, status, value, attempt from ${database.schema}.au_results`);
      expect(rows).toHaveLength(COUNT);
      const byKey = new Map(rows.map((row) => [row.key, row]));
      launched.forEach(({ key }, n) => {
        expect(byKey.get(key)?.status, `computation ${n}`).toBe('completed');
        expect(byKey.get(key)?.value, `computation ${n}`).toBe(n * n);
      });
      const completions = await database.pool.query(
        `select key, count(*)::int as n from ${database.schema}.chaos_completions group by key having count(*) <> 1`,
      );
      expect(completions.rows, 'no record completed twice').toEqual([]);
      const total = await database.pool.query(
        `select count(*)::int as n from ${database.schema}.chaos_completions`,
      );
      expect(total.rows[0].n).toBe(COUNT);
      const deliveries = await database.pool.query(
        `select status, count(*)::int as n from ${database.schema}.au_tasks group by status`,
      );
      expect(deliveries.rows).toEqual([{ status: 'completed', n: COUNT }]);
      const redelivered = await database.pool.query(
        `select count(*)::int as n from ${database.schema}.au_tasks where lease_expiries > 0`,
      );
      expect(redelivered.rows[0].n, 'the kill hit work in flight, which was claimed again').toBeGreaterThan(
        0,
      );
      await producer.close();
      await store.close();
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
