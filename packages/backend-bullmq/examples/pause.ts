import { randomUUID } from 'node:crypto';
import { BullMQBackend } from '@au/backend-bullmq';
import {
  defineTask,
  pausedState,
  pauseQueue,
  pauseTask,
  resumeQueue,
  resumeTask,
  submitTask,
} from '@au/core';
import { RedisStore } from '@au/store-redis';

const redis = process.env.AU_REDIS_URL ?? 'redis://127.0.0.1:6379';
const run = randomUUID().slice(0, 8);
const store = new RedisStore({ redis, prefix: `pause-example-${run}` });
// A producer with a worker in this process; `startBullMQWorker` elsewhere behaves the same.
const backend = new BullMQBackend({ connection: redis, queue: `pause-example-${run}`, worker: {} });

const report = defineTask({ name: 'report', run: (month: string) => `report for ${month}` });
const email = defineTask({ name: 'email', run: (to: string) => `sent to ${to}` });

// Pause one task: its work waits, pending; other tasks run.
console.log(await pauseTask(report, { backend }));
const june = await submitTask(report, 'June', { store, backend });
console.log(await (await submitTask(email, 'ops@example.com', { store, backend })).result());
await new Promise((resolve) => setTimeout(resolve, 500));
console.log(await june.status());

// Resume it: what waited runs, in its queue order.
console.log(await resumeTask(report, { backend }));
console.log(await june.result({ timeout: 10_000 }));

// Pause the whole queue: nothing starts until it is resumed.
await pauseQueue({ backend });
console.log(await pausedState({ backend }));
const july = await submitTask(report, 'July', { store, backend });
await resumeQueue({ backend });
console.log(await july.result({ timeout: 10_000 }));

await backend.queue.obliterate({ force: true });
await backend.close();
await store.close();
