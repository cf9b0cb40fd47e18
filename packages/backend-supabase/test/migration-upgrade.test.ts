import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { applyMigration, PostgresStore, sqlForSchema } from '@au/store-supabase';
import { conformanceTasksUrl, postgresUrl, requireService } from '@au/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresWorker } from '../src/index';

const postgresUp = await requireService('postgres');

/** The migration as released before one row per computation: records in `au_results`, deliveries in `au_tasks`. */
const twoTableMigration = readFileSync(
  new URL('./fixtures/two-table-migration.sql', import.meta.url),
  'utf8',
);

describe.skipIf(!postgresUp)('the migration over a database of the two-table layout', () => {
  const schema = `au_upgrade_${randomBytes(5).toString('hex')}`;
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: postgresUrl(), max: 8 });
  });
  afterAll(async () => {
    await pool?.query(`drop schema if exists ${schema} cascade`);
    await pool?.end();
  });

  /** Calls a function of the schema with plain SQL (the old layout's functions, before the upgrade). */
  const call = async (sql: string, values: unknown[] = []) =>
    (await pool.query(sql.replaceAll('$schema', schema), values)).rows;
  const record = (key: string, fields: Record<string, unknown>) =>
    JSON.stringify({
      key,
      task: 'au-conformance.add',
      attempt: 0,
      maxAttempts: 1,
      createdAt: 1_000,
      ...fields,
    });

  describe('when it is applied in place, twice', () => {
    it('should keep every record and queue entry, and its workers should run the pending work', async () => {
      await pool.query(sqlForSchema(twoTableMigration, schema));
      // A finished computation, one waiting in the queue, one whose worker died mid-run
      // (running, lease lapsing), and a queue row whose record lives in another store.
      await call(`select $schema.au_result_create($1::jsonb)`, [
        record('done', {
          status: 'completed',
          attempt: 1,
          value: 3,
          args: { a: 1, b: 2 },
          finishedAt: 2_000,
        }),
      ]);
      await call(`select $schema.au_result_create($1::jsonb)`, [
        record('waiting', { status: 'pending', args: { a: 20, b: 22 }, tags: ['t'] }),
      ]);
      await call(`select $schema.au_result_create($1::jsonb)`, [
        record('orphaned', { status: 'pending', args: { a: 1, b: 1 } }),
      ]);
      await call(`select $schema.au_enqueue('waiting', 'au-conformance.add')`);
      await call(`select $schema.au_enqueue('orphaned', 'au-conformance.add')`);
      const [claimed] = await call(`select * from $schema.au_claim('default', 'dead-worker', 1, 30000)`);
      expect(claimed?.key).toBe('waiting');
      // The claim took the older row; move the lease to `orphaned` as a dead worker would leave it.
      await call(`update $schema.au_tasks set status = 'queued', lease_token = null where key = 'waiting'`);
      await call(
        `update $schema.au_tasks set status = 'running', attempts = 1, lease_token = gen_random_uuid(),
           lease_expires_at = now() + interval '200 milliseconds', worker = 'dead-worker' where key = 'orphaned'`,
      );
      await call(
        `update $schema.au_results set status = 'running', attempt = 1, started_at = 1500 where key = 'orphaned'`,
      );
      await call(`select $schema.au_enqueue('elsewhere', 'au-conformance.add')`);
      const store = new PostgresStore({ connection: pool, schema });
      const before = await Promise.all(['done', 'waiting', 'orphaned'].map((key) => store.get(key)));

      await applyMigration(pool, { schema });
      await applyMigration(pool, { schema });

      expect(await Promise.all(['done', 'waiting', 'orphaned'].map((key) => store.get(key)))).toEqual(before);
      const entries = await call(`select key, status, attempts, detached from $schema.au_tasks order by key`);
      expect(entries).toEqual([
        { key: 'elsewhere', status: 'queued', attempts: 0, detached: true },
        { key: 'orphaned', status: 'running', attempts: 1, detached: false },
        { key: 'waiting', status: 'queued', attempts: 1, detached: false },
      ]);
      expect(
        await call(
          `select count(*)::int as n from pg_tables where schemaname = $1 and tablename = 'au_tasks'`,
          [schema],
        ),
        'the queue table is gone: its rows live in au_results',
      ).toEqual([{ n: 0 }]);

      const worker = await startPostgresWorker({
        connection: pool,
        schema,
        tasks: [conformanceTasksUrl],
        pollingInterval: 100,
      });
      try {
        const deadline = Date.now() + 10_000;
        let waiting = await store.get('waiting');
        let orphaned = await store.get('orphaned');
        while (
          (waiting?.status !== 'completed' || orphaned?.status !== 'completed') &&
          Date.now() < deadline
        ) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          waiting = await store.get('waiting');
          orphaned = await store.get('orphaned');
        }
        expect(waiting).toMatchObject({ status: 'completed', value: 42, tags: ['t'] });
        expect(orphaned, 'the dead worker’s run was claimed again after its lease').toMatchObject({
          status: 'completed',
          value: 2,
          attempt: 2,
        });
        expect(await store.get('done')).toEqual(before[0]);
        expect(
          await call(`select key, status from $schema.au_tasks where status <> 'completed' order by key`),
        ).toEqual([]);
      } finally {
        await worker.close();
        await store.close();
      }
    });

    it('should add the schedules table, and a later migration should keep its schedules', async () => {
      // The database was upgraded by the test above: it had no au_schedules before.
      const state = {
        id: 'nightly',
        task: 'au-conformance.add',
        every: 1000,
        overlap: 'skip',
        paused: false,
        nextRunAt: 5_000,
        createdAt: 1,
        updatedAt: 1,
        revision: 1,
      };
      expect(
        await call(`select $schema.au_schedule_save($1::jsonb, 'default', 'absent') as saved`, [
          JSON.stringify(state),
        ]),
      ).toEqual([{ saved: true }]);
      await applyMigration(pool, { schema });
      expect(await call(`select $schema.au_schedule_get('nightly') as state`)).toEqual([{ state }]);
      const [{ due }] = (await call(
        `select $schema.au_schedule_claim_due('default', 'w', 6000) -> 'due' as due`,
      )) as [{ due: unknown[] }];
      expect(due).toEqual([state]);
    });
  });
});
