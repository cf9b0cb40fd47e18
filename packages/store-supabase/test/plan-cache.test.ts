import { randomUUID } from 'node:crypto';
import { postgresUrl, requireService } from '@au/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

/**
 * PostgreSQL keeps a plpgsql function's plans for the life of a session. A session that
 * first created records while the table was empty kept plans that read the whole table to
 * find a key, and every later create in that session paid for it (10,000 single launches:
 * 13,000 such scans reading 65 million rows). The functions that look rows up by key are
 * declared with `enable_seqscan = off`.
 */
describe.skipIf(!postgresUp)('the SQL functions in a long-lived session', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let session: pg.Client;
  beforeAll(async () => {
    database = await freshSchema();
    session = new pg.Client({ connectionString: postgresUrl() });
    await session.connect();
  });
  afterAll(async () => {
    await session?.end();
    await database?.drop();
  });

  const record = (key: string) => ({ key, task: 't', status: 'pending', attempt: 0, createdAt: 1 });
  const create = (fn: 'au_result_create_many' | 'au_launch_many', keys: string[]) =>
    session.query(
      fn === 'au_launch_many'
        ? `select ${database.schema}.au_launch_many($1::jsonb, $2::jsonb, 'claims')`
        : `select ${database.schema}.au_result_create_many($1::jsonb)`,
      fn === 'au_launch_many'
        ? [
            JSON.stringify(keys.map(record)),
            JSON.stringify(keys.map((key) => ({ key, task: 't', priority: 0, maxAttempts: 1 }))),
          ]
        : [JSON.stringify(keys.map(record))],
    );
  /** Whole-table scans of au_results so far, this session's included. */
  const tableScans = async () => {
    await session.query('select pg_stat_force_next_flush()');
    const { rows } = await session.query<{ seq_scan: string }>(
      'select seq_scan from pg_stat_user_tables where relid = $1::regclass',
      [`${database.schema}.au_results`],
    );
    return Number(rows[0]!.seq_scan);
  };

  it('should find keys through the primary key once the table has grown', async () => {
    // The first calls, on an empty table, are the ones whose plans a session would keep.
    for (let n = 0; n < 8; n++) {
      await create('au_result_create_many', [`early-${n}`]);
      await create('au_launch_many', [`early-launch-${n}`]);
    }
    await create(
      'au_result_create_many',
      Array.from({ length: 3000 }, (_, n) => `bulk-${n}`),
    );
    const before = await tableScans();
    for (let n = 0; n < 5; n++) {
      await create('au_result_create_many', [`late-${n}`]);
      await create('au_launch_many', [`late-launch-${n}`]);
    }
    expect(await tableScans(), 'creates that scanned the whole table').toBe(before);
  });

  it('should find the rows of updates and claims through the keys once the table has grown', async () => {
    const update = (key: string) =>
      session.query(`select ${database.schema}.au_result_update_many($1::jsonb)`, [
        JSON.stringify([{ key, patch: { progress: 1 } }]),
      ]);
    const claim = () => session.query(`select ${database.schema}.au_claim('claims', 'w', 2, 30000)`);
    for (let n = 0; n < 8; n++) {
      await create('au_launch_many', [`small-${n}`]);
      await update(`small-${n}`);
      await claim();
    }
    await create(
      'au_result_create_many',
      Array.from({ length: 3000 }, (_, n) => `grown-${n}`),
    );
    await create('au_launch_many', ['claimed-late']);
    const before = await tableScans();
    await update('grown-7');
    await claim();
    expect(await tableScans(), 'updates and claims that scanned the whole table').toBe(before);
  });

  it('should look up a claim tried again by its id, not among every failed record', async () => {
    // Every claim of a worker carries an id (a claim whose reply was lost is made again
    // under it) and first looks up what that id took; failed records stay for their ttl.
    await session.query(
      `insert into ${database.schema}.au_results (key, task, status, created_at, queue, queue_status, claim_id)
       select 'failed-' || g, 't', 'failed', g, 'retried', 'failed', gen_random_uuid()
       from generate_series(1, 2000) g`,
    );
    await session.query(`analyze ${database.schema}.au_results`);
    await session.query('begin');
    try {
      await session.query(`select ${database.schema}.au_claim('retried', 'w', 1, 30000, null, $1)`, [
        randomUUID(),
      ]);
      // This transaction's own counts: rows read from the table by index and bitmap scans.
      const { rows } = await session.query<{ fetched: string }>(
        'select pg_stat_get_xact_tuples_fetched($1::regclass) as fetched',
        [`${database.schema}.au_results`],
      );
      expect(Number(rows[0]!.fetched), 'rows the claim read').toBeLessThan(50);
    } finally {
      await session.query('rollback');
    }
  });
});
