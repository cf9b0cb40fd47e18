import { deleteSchedule, schedule, type TaskDefinition } from '@au/core';
import { PostgresStore, SupabaseStore } from '@au/store-supabase';
import {
  conformanceTasks,
  conformanceTasksUrl,
  postgresUrl,
  requireService,
  testSchedules,
} from '@au/testing';
import { type PostgrestEmulator, startPostgrestEmulator } from '@au/testing/postgrest';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PostgresQueueBackend, SupabaseQueueBackend } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

const tasks = new Map<string, TaskDefinition>(
  Object.values(conformanceTasks).map((task) => [task.name, task as TaskDefinition]),
);
const findTask = (name: string) => tasks.get(name);

describe.skipIf(!postgresUp)('schedules on the Postgres queue', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let queues = 0;
  beforeAll(async () => {
    database = await freshSchema();
  });
  afterAll(async () => {
    await database?.drop();
  });

  testSchedules(
    'PostgresQueueBackend, three workers',
    async () => {
      const queue = `schedules${++queues}`;
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      const workers = [1, 2, 3].map(
        () =>
          new PostgresQueueBackend({
            connection: postgresUrl(),
            schema: database.schema,
            store,
            tasks: [conformanceTasksUrl],
            queue,
            pollingInterval: 200,
            max: 6,
          }),
      );
      await Promise.all(workers.map((worker) => worker.ready()));
      let next = 0;
      return {
        store,
        // Any process's scheduler keeps the schedules; the workers fire them.
        openScheduler: () => workers[next++ % workers.length]!.scheduler({ store, findTask }),
        close: async () => {
          await Promise.all(workers.map((worker) => worker.close({ timeout: 1000 })));
        },
      };
    },
    { every: 200 },
  );

  describe("when core's schedule() is called where the backend has no task modules", () => {
    it('should fire the task the schedule names, through the backend of that process', async () => {
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      const backend = new PostgresQueueBackend({
        connection: postgresUrl(),
        schema: database.schema,
        store,
        queue: `inline${++queues}`,
        pollingInterval: 200,
        max: 6,
      });
      try {
        const id = `inline${queues}`;
        await schedule(conformanceTasks.add, { id, every: 200, input: { a: 1, b: 2 }, store, backend });
        await waitFor(async () => {
          const { records } = await store.list({ tag: `schedule:${id}`, limit: 100 });
          return records.filter((record) => record.status === 'completed' && record.value === 3).length >= 2;
        });
        expect(await deleteSchedule(id, { store, backend })).toBe(true);
      } finally {
        await backend.close({ timeout: 1000 });
      }
    });
  });

  describe('when a worker holding a due schedule stops', () => {
    it('should let another worker fire its next ticks', async () => {
      const queue = `handover${++queues}`;
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      const make = () =>
        new PostgresQueueBackend({
          connection: postgresUrl(),
          schema: database.schema,
          store,
          tasks: [conformanceTasksUrl],
          queue,
          pollingInterval: 200,
          max: 6,
        });
      const first = make();
      const second = make();
      try {
        const scheduler = first.scheduler({ store, findTask });
        const state = await scheduler.upsert({
          id: `handover${queues}`,
          task: conformanceTasks.echo.name,
          every: 200,
          args: 1,
          overlap: 'allow',
        });
        const runs = async () =>
          (await store.list({ tag: `schedule:${state.id}`, limit: 100 })).records.map((record) => record.key);
        await waitFor(async () => (await runs()).length >= 2);
        await first.close({ timeout: 1000 });
        const before = (await runs()).length;
        await waitFor(async () => (await runs()).length >= before + 3);
        const ticks = (await runs()).map((key) => Number(key.slice(key.lastIndexOf(':') + 1))).sort();
        for (let index = 1; index < ticks.length; index++)
          expect(ticks[index]! - ticks[index - 1]!).toBe(200);
        await second.scheduler({ store, findTask }).delete(state.id);
      } finally {
        await Promise.all([first.close({ timeout: 1000 }), second.close({ timeout: 1000 })]);
      }
    });
  });
});

describe.skipIf(!postgresUp)('schedules on the Supabase queue', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let emulator: PostgrestEmulator;
  let queues = 0;
  beforeAll(async () => {
    database = await freshSchema();
    emulator = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: database.schema });
  });
  afterAll(async () => {
    await emulator?.close();
    await database?.drop();
  });
  const client = () =>
    createClient(emulator.url, emulator.serviceRoleKey, {
      db: { schema: database.schema },
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never },
    });

  testSchedules(
    'SupabaseQueueBackend (supabase-js through the PostgREST emulator), three workers',
    async () => {
      const queue = `schedules${++queues}`;
      const store = new SupabaseStore({ client: client(), schema: database.schema });
      const workers = [1, 2, 3].map(
        () =>
          new SupabaseQueueBackend({
            client: client(),
            schema: database.schema,
            store,
            tasks: [conformanceTasksUrl],
            queue,
            pollingInterval: 200,
          }),
      );
      await Promise.all(workers.map((worker) => worker.ready()));
      let next = 0;
      return {
        store,
        openScheduler: () => workers[next++ % workers.length]!.scheduler({ store, findTask }),
        close: async () => {
          await Promise.all(workers.map((worker) => worker.close({ timeout: 1000 })));
        },
      };
    },
    { every: 200 },
  );
});

async function waitFor(probe: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`[test] the condition did not hold within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
