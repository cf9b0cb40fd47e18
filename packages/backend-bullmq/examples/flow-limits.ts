// Concurrency keys and a rate limit on BullMQ. Needs Redis (AU_REDIS_URL, default
// redis://127.0.0.1:6379). From the repository root:
//   node --conditions=@au/source --import tsx packages/backend-bullmq/examples/flow-limits.ts
import { randomUUID } from 'node:crypto';
import { BullMQBackend } from '@au/backend-bullmq';
import { defineTask, submitTask } from '@au/core';
import { RedisStore } from '@au/store-redis';

const redis = process.env.AU_REDIS_URL ?? 'redis://127.0.0.1:6379';
const running = new Map<string, number>();
const most = new Map<string, number>();
const starts: number[] = [];

// At most 2 exports per tenant at once, and at most 4 starts per second overall, across
// every worker of the queue (here one worker, embedded in this process).
const exportReport = defineTask({
  name: 'export-report',
  concurrency: { limit: 2, key: ({ tenant }: { tenant: string; n: number }) => tenant },
  rateLimit: { limit: 4, interval: 1000 },
  run: async ({ tenant, n }: { tenant: string; n: number }) => {
    starts.push(Date.now());
    running.set(tenant, (running.get(tenant) ?? 0) + 1);
    most.set(tenant, Math.max(most.get(tenant) ?? 0, running.get(tenant)!));
    await new Promise((resolve) => setTimeout(resolve, 300));
    running.set(tenant, running.get(tenant)! - 1);
    return `${tenant}-${n}.csv`;
  },
});

const queue = `example-${randomUUID().slice(0, 8)}`;
const store = new RedisStore({ redis, prefix: queue });
const backend = new BullMQBackend({ connection: redis, queue, worker: { store, concurrency: 20 } });

const launched = Date.now();
const handles = await Promise.all(
  Array.from({ length: 12 }, (_, n) =>
    submitTask(exportReport, { tenant: n % 2 === 0 ? 'acme' : 'globex', n }, { store, backend, ttl: 60 }),
  ),
);
const files = await Promise.all(handles.map((handle) => handle.result({ timeout: 30_000 })));
console.log(files.length, 'reports');
console.log('most at once per tenant:', Object.fromEntries([...most].sort()));
// 4 start at once, then 4 a second later, and the last 4 one second after that.
console.log('12 starts at 4 per second took 2 s or more:', Math.max(...starts) - launched >= 2000);

await backend.queue.obliterate({ force: true });
await backend.close();
await store.close();
