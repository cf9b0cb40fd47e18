import { type ChildProcess, fork } from 'node:child_process';
import { jsonCodec, NO_RETRY, submitTask } from '@au/core';
import { launchMany } from '@au/core/kit';
import { PostgresStore } from '@au/store-supabase';
import { postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend } from '../src/index';
import { pausable, rated, slot } from './fixtures/flow-tasks';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');
const settings = { codec: jsonCodec, retry: NO_RETRY, middleware: [] };

describe.skipIf(!postgresUp)('PostgresQueueBackend flow control across worker processes', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let store: PostgresStore;
  let producer: PostgresQueueBackend;
  const children = new Set<ChildProcess>();
  beforeAll(async () => {
    database = await freshSchema();
    await database.pool.query(
      `create table ${database.schema}.flow_runs (key text, grp text, pid integer, attempt integer,
        started_at bigint not null, finished_at bigint)`,
    );
    store = new PostgresStore({ connection: database.pool, schema: database.schema, watch: false });
    producer = new PostgresQueueBackend({
      connection: database.pool,
      schema: database.schema,
      worker: false,
      store,
    });
    await Promise.all([startWorker(), startWorker(), startWorker()]);
  }, 60_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await producer?.close();
    await store?.close();
    await database?.drop();
  });

  const startWorker = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = fork(
        new URL('./fixtures/flow-worker.ts', import.meta.url),
        [postgresUrl(), database.schema],
        {
          execArgv: ['--conditions=@au/source', '--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          env: { ...process.env, AU_FLOW_URL: postgresUrl(), AU_FLOW_SCHEMA: database.schema },
        },
      );
      children.add(child);
      child.once('message', () => resolve(child));
      child.once('error', reject);
      child.once('exit', () => children.delete(child));
    });

  const statuses = async (task: string) =>
    (
      await database.pool.query<{ status: string; n: number }>(
        `select status, count(*)::int as n from ${database.schema}.au_results where task = $1 group by status order by status`,
        [task],
      )
    ).rows;

  /** Polls until `done` holds, or fails after `ms`. */
  const until = async (what: string, done: () => Promise<boolean>, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };

  describe('when 36 computations over 3 keys of limit 2 run on 3 workers and one is SIGKILLed holding slots', () => {
    it('should never run more than 2 of a key at once, reach 2, and complete all after its leases expire', {
      timeout: 120_000,
    }, async () => {
      const groups = ['a', 'b', 'c'];
      const launched = await launchMany(
        slot,
        Array.from({ length: 36 }, (_, n) => ({ group: groups[n % 3]!, ms: 500 })),
        { store, backend: producer, ...settings },
      );
      // A worker process that is running computations (so holds slots of their groups).
      let victimPid = 0;
      await until('a worker running two computations', async () => {
        const { rows } = await database.pool.query<{ pid: number }>(
          `select pid from ${database.schema}.flow_runs where finished_at is null
           group by pid having count(*) >= 2 limit 1`,
        );
        victimPid = rows[0]?.pid ?? 0;
        return victimPid !== 0;
      });
      const victim = [...children].find((child) => child.pid === victimPid)!;
      expect(victim, 'the runs are in one of our workers').toBeDefined();
      const exited = new Promise((resolve) => victim.once('exit', resolve));
      victim.kill('SIGKILL');
      await exited;
      // Its runs stopped at the latest now.
      const killedAt = Date.now();
      await until('every computation to end', async () => {
        const rows = await statuses(slot.name);
        return rows.length === 1 && rows[0]!.status === 'completed';
      });
      expect(await statuses(slot.name)).toEqual([{ status: 'completed', n: 36 }]);

      const { rows: runs } = await database.pool.query<{
        grp: string;
        pid: number;
        started_at: string;
        finished_at: string | null;
      }>(`select grp, pid, started_at, finished_at from ${database.schema}.flow_runs`);
      const killed = runs.filter((run) => run.finished_at === null);
      expect(killed.length, 'the kill hit runs in flight').toBeGreaterThan(0);
      expect(
        killed.every((run) => run.pid === victimPid),
        'only the killed worker left runs unfinished',
      ).toBe(true);
      const observed: Record<string, number> = {};
      for (const group of groups) {
        observed[group] = maxOverlap(
          runs
            .filter((run) => run.grp === group)
            .map((run) => [
              Number(run.started_at),
              run.finished_at === null ? killedAt : Number(run.finished_at),
            ]),
        );
      }
      console.log('[flow] Postgres queue, 3 worker processes, limit 2: max running per key', observed);
      for (const group of groups) {
        expect(observed[group], `key ${group}: never past the limit`).toBeLessThanOrEqual(2);
        expect(observed[group], `key ${group}: the limit was reached`).toBe(2);
      }
      const { rows: redelivered } = await database.pool.query(
        `select count(*)::int as n from ${database.schema}.au_results where task = $1 and lease_expiries > 0`,
        [slot.name],
      );
      expect(redelivered[0].n, "the killed worker's computations were claimed again").toBeGreaterThan(0);
      expect(new Set(launched.map((handle) => handle.key)).size).toBe(36);
      // Keep three workers for the next cases.
      await startWorker();
    });
  });

  describe('when 10 computations limited to 3 starts per 1000 ms run on 3 workers', () => {
    it('should complete them all with no 1000 ms window holding more than 3 starts', {
      timeout: 60_000,
    }, async () => {
      const handles = await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          submitTask(rated, n, { store, backend: producer, retry: NO_RETRY }),
        ),
      );
      const values = await Promise.all(handles.map((handle) => handle.result({ timeout: 45_000 })));
      expect(values).toEqual(Array.from({ length: 10 }, (_, n) => n));
      // The starts as the queue counted them: each claim's time on the database clock, in µs.
      const { rows } = await database.pool.query<{ at: string }>(
        `select (extract(epoch from claimed_at) * 1000000)::bigint as at from ${database.schema}.au_results
         where task = $1 order by claimed_at`,
        [rated.name],
      );
      const starts = rows.map((row) => Number(row.at));
      expect(starts).toHaveLength(10);
      const gaps = starts.slice(3).map((at, n) => at - starts[n]!);
      console.log(
        '[flow] Postgres queue, 3 per 1000 ms: ms between each start and the third before it',
        gaps.map((gap) => Math.round(gap / 1000)),
      );
      // Any 4 consecutive starts span at least the interval: no window of 1000 ms holds 4.
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1_000_000);
    });
  });

  describe('when a task is paused', () => {
    it('should keep its computations pending while workers poll, list it, and run them on resume', {
      timeout: 60_000,
    }, async () => {
      await producer.pause(pausable.name);
      expect(await producer.paused()).toEqual({ queue: false, tasks: [pausable.name] });
      const handles = await Promise.all(
        Array.from({ length: 5 }, (_, n) =>
          submitTask(pausable, n, { store, backend: producer, retry: NO_RETRY }),
        ),
      );
      // Other work still runs meanwhile: the workers are polling, and pass over the paused rows.
      const other = await submitTask(rated, 100, { store, backend: producer, retry: NO_RETRY });
      expect(await other.result({ timeout: 30_000 })).toBe(100);
      // Many polls (every 100 ms per worker) later, nothing of the paused task started.
      await sleep(1500);
      expect(await statuses(pausable.name)).toEqual([{ status: 'pending', n: 5 }]);

      await producer.pause(); // the whole queue, too
      expect(await producer.paused()).toEqual({ queue: true, tasks: [pausable.name] });
      await producer.resume(pausable.name);
      expect(await producer.paused()).toEqual({ queue: true, tasks: [] });
      await sleep(500);
      expect(await statuses(pausable.name), 'the queue is still paused').toEqual([
        { status: 'pending', n: 5 },
      ]);
      await producer.resume();
      expect(await producer.paused()).toEqual({ queue: false, tasks: [] });
      const values = await Promise.all(handles.map((handle) => handle.result({ timeout: 30_000 })));
      expect(values).toEqual([0, 2, 4, 6, 8]);
    });
  });
});

/** Most intervals [start, end) open at one instant (an end at t comes before a start at t). */
function maxOverlap(intervals: readonly (readonly [number, number])[]): number {
  const events = intervals.flatMap(([start, end]) => [
    [start, 1],
    [end, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let open = 0;
  let most = 0;
  for (const [, change] of events) {
    open += change!;
    most = Math.max(most, open);
  }
  return most;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
