import { fork } from 'node:child_process';
import { PostgresStore } from '@au/store-supabase';
import { postgresUrl, requireService } from '@au/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startPostgresWorker } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');
let database: Awaited<ReturnType<typeof freshSchema>> | undefined;
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

/** Runs the producer process until it launches, lets it launch for `ms`, then SIGKILLs it. */
async function launchThenKill(schema: string, env: Record<string, string>, ms: number): Promise<void> {
  const child = fork(new URL('./fixtures/producer-process.ts', import.meta.url), [postgresUrl(), schema], {
    execArgv: ['--conditions=@au/source', '--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`[test] the producer exited early with ${code}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, ms));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(!postgresUp)('PostgresQueueBackend', () => {
  describe('when a producer is killed in the middle of launches', () => {
    it.each([
      ['', {}],
      [' with keys of their own', { KEYED: '1' }],
    ])(
      'should leave no record without its queue entry%s: every computation it created runs',
      async (_, keyed) => {
        database = await freshSchema();
        const { schema } = database;
        await launchThenKill(schema, { LAUNCHERS: '20', ...keyed }, 300);
        const store = new PostgresStore({ connection: database.pool, schema, watch: false });
        const created = await store.count({});
        expect(created).toBeGreaterThan(20);
        const worker = await startPostgresWorker({
          connection: postgresUrl(),
          schema,
          tasks: [new URL('./fixtures/chaos-tasks.ts', import.meta.url)],
          maxConcurrentTasks: 32,
          pollingInterval: 100,
        });
        try {
          // Every record the producer created has its queue entry: the worker ends them all.
          const deadline = Date.now() + 30_000;
          let unfinished = created;
          while (unfinished > 0 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            unfinished = await store.count({ status: ['pending', 'running'] });
          }
          expect(unfinished).toBe(0);
          expect(await store.count({ status: 'completed' })).toBe(created);
        } finally {
          await worker.close({ timeout: 2000 });
          await store.close();
        }
      },
      60_000,
    );
  });
});
