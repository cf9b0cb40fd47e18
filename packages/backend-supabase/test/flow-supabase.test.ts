import { defineTask, NO_RETRY, submitTask } from '@au/core';
import { SupabaseStore } from '@au/store-supabase';
import { postgresUrl, requireService } from '@au/testing';
import { type PostgrestEmulator, startPostgrestEmulator } from '@au/testing/postgrest';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SupabaseQueueBackend } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

/** Runs of each group in flight now, and the most seen at once (both workers are in this process). */
const inFlight = new Map<string, number>();
const most = new Map<string, number>();

const mutex = defineTask({
  name: 'flow.supabase.mutex',
  concurrency: { key: ({ group }: { group: string }) => group, limit: 1 },
  run: async ({ group }: { group: string }) => {
    const now = (inFlight.get(group) ?? 0) + 1;
    inFlight.set(group, now);
    most.set(group, Math.max(most.get(group) ?? 0, now));
    await new Promise((resolve) => setTimeout(resolve, 100));
    inFlight.set(group, (inFlight.get(group) ?? 1) - 1);
    return group;
  },
});

const pausable = defineTask({ name: 'flow.supabase.pausable', run: async (n: number) => n + 1 });

describe.skipIf(!postgresUp)(
  'SupabaseQueueBackend flow control (supabase-js through the PostgREST emulator)',
  () => {
    let database: Awaited<ReturnType<typeof freshSchema>>;
    let emulator: PostgrestEmulator;
    let store: SupabaseStore;
    let first: SupabaseQueueBackend;
    let second: SupabaseQueueBackend;
    beforeAll(async () => {
      database = await freshSchema();
      emulator = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: database.schema });
      const client = () =>
        createClient(emulator.url, emulator.serviceRoleKey, {
          db: { schema: database.schema },
          auth: { persistSession: false, autoRefreshToken: false },
          realtime: { transport: WebSocket as never },
        });
      store = new SupabaseStore({ client: client(), schema: database.schema });
      // Two workers of one queue, each with room for four runs.
      const backend = () =>
        new SupabaseQueueBackend({
          client: client(),
          schema: database.schema,
          store,
          tasks: [mutex, pausable],
          pollingInterval: 50,
          maxConcurrentTasks: 4,
        });
      first = backend();
      second = backend();
    });
    afterAll(async () => {
      // Short: work launched through one and run by the other keeps `close` waiting for a drain.
      await Promise.all([first?.close({ timeout: 500 }), second?.close({ timeout: 500 })]);
      await store?.close();
      await emulator?.close();
      await database?.drop();
    });

    describe('when computations of a task with concurrency limit 1 are launched through two workers', () => {
      it('should run one of each key at a time and complete them all', { timeout: 60_000 }, async () => {
        const handles = await Promise.all(
          Array.from({ length: 8 }, (_, n) =>
            submitTask(
              mutex,
              { group: n % 2 === 0 ? 'even' : 'odd' },
              { store, backend: n < 4 ? first : second, retry: NO_RETRY },
            ),
          ),
        );
        const values = await Promise.all(handles.map((handle) => handle.result({ timeout: 45_000 })));
        expect(values.filter((value) => value === 'even')).toHaveLength(4);
        console.log(
          '[flow] Supabase queue, 2 workers, limit 1: max running per key',
          Object.fromEntries(most),
        );
        expect(Object.fromEntries(most)).toEqual({ even: 1, odd: 1 });
      });
    });

    describe('when a task is paused through one backend', () => {
      it('should keep its work pending on every worker until resumed', { timeout: 60_000 }, async () => {
        await second.pause(pausable.name);
        expect(await first.paused()).toEqual({ queue: false, tasks: [pausable.name] });
        const handle = await submitTask(pausable, 1, { store, backend: first, retry: NO_RETRY });
        // Both workers poll every ~50 ms meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(await handle.status()).toBe('pending');
        await first.resume(pausable.name);
        expect(await second.paused()).toEqual({ queue: false, tasks: [] });
        expect(await handle.result({ timeout: 30_000 })).toBe(2);
      });
    });
  },
);
