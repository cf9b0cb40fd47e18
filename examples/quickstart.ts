import { asyncCompute, defineTask } from '@au/core';
import { z } from 'zod';

// An ordinary function becomes an asynchronous computation.
const double = asyncCompute((x: number) => x * 2);
const handle = await double(21); // returns at once with a handle
console.log(await handle.result()); // 42

// A task: validated input, a timeout, progress and cancellation.
export const countdown = defineTask({
  name: 'countdown',
  input: z.object({ from: z.number().int().min(1).max(100) }),
  timeout: 10_000,
  run: async ({ from }, ctx) => {
    for (let left = from; left > 0; left--) {
      ctx.signal.throwIfAborted(); // stops here when cancelled
      ctx.progress({ left });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return 'liftoff';
  },
});

const launch = asyncCompute(countdown, { ttl: 3600 });
const rocket = await launch({ from: 3 });
for await (const event of rocket.events()) {
  console.log(event.type === 'status' ? event.status : event.progress);
}
console.log(await rocket.result({ timeout: 5_000 })); // 'liftoff'

const stopped = await launch({ from: 50 });
await stopped.cancel('changed my mind');
console.log(await stopped.status()); // 'cancelled'
