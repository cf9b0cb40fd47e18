// Concurrency keys, rate limits and pause on the Postgres queue. Run from this package:
//   AU_PG_URL=postgres://postgres@127.0.0.1:5432/postgres AU_PG_SCHEMA=au_example \
//     node --conditions=@au/source --import tsx examples/flow-control.ts
import { PostgresQueueBackend } from '@au/backend-supabase';
import { defineTask, submitTask } from '@au/core';
import { applyMigration, PostgresStore } from '@au/store-supabase';

const connection = process.env.AU_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = process.env.AU_PG_SCHEMA ?? 'public';
await applyMigration(connection, { schema });

let running = 0;
let most = 0;
// One sync per account at a time (a per-account mutex), and at most 4 syncs started per second.
const syncAccount = defineTask({
  name: 'sync-account',
  concurrency: { key: ({ account }: { account: string }) => account, limit: 1 },
  rateLimit: { limit: 4, interval: 1000 },
  run: async ({ account }: { account: string }) => {
    most = Math.max(most, ++running);
    await new Promise((resolve) => setTimeout(resolve, 100));
    running -= 1;
    return `${account} synced`;
  },
});

const store = new PostgresStore({ connection, schema });
// This process is a worker too (10 slots); every worker of the queue obeys the same limits.
const backend = new PostgresQueueBackend({
  connection,
  schema,
  store,
  tasks: [syncAccount],
  queue: 'example-flow',
});

// Paused: launches are accepted and wait, pending, until resumed.
await backend.pause(syncAccount.name);
const handles = await Promise.all(
  Array.from({ length: 6 }, () => submitTask(syncAccount, { account: 'acme' }, { store, backend })),
);
console.log(await backend.paused(), await handles[0]!.status());
await backend.resume(syncAccount.name);

const started = Date.now();
const results = await Promise.all(handles.map((handle) => handle.result({ timeout: 30_000 })));
console.log(
  results[0],
  `x${results.length}; at most ${most} at once; took over a second: ${Date.now() - started > 1000}`,
);

await backend.close();
await store.close();
