import {
  asyncCompute,
  countDeadLetters,
  defineTask,
  listDeadLetters,
  MemoryStore,
  purgeDeadLetters,
  RetryNotAllowedError,
} from '@au/core';

// A task that fails until its upstream is back (here: a flag flipped below).
let upstreamUp = false;
export const sync = defineTask({
  name: 'sync',
  retry: { attempts: 2, backoff: 'fixed', delay: 10 },
  run: async ({ account }: { account: string }) => {
    if (!upstreamUp) throw new Error(`upstream down while syncing ${account}`);
    return `synced ${account}`;
  },
});

const store = new MemoryStore();
const dead: string[] = [];
const syncAll = asyncCompute(sync, {
  store,
  // Told where the task runs, once its retries are spent: publish it elsewhere.
  onDeadLetter: (record) => {
    dead.push(record.key);
  },
});

const first = await syncAll({ account: 'a-1' });
await syncAll.launch([{ account: 'a-2' }], { tags: ['nightly'] });
await syncAll.launch([{ account: 'a-3' }], { tags: ['nightly'] });
await first.result().catch((error: Error) => console.log(error.message)); // the last attempt's error
while (dead.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));

console.log(await countDeadLetters(store)); // 3
console.log((await listDeadLetters(store, { tag: 'nightly' })).records.length); // 2

upstreamUp = true;
// Retry one under the same key: its attempts so far are kept in record.history.
const reopened = await first.retry();
console.log(
  reopened.status,
  reopened.history?.map((attempt) => attempt.attempt),
); // pending [ 1, 2 ]
console.log(await first.result()); // synced a-1

// Only a failed or cancelled computation can be retried.
await first.retry().catch((error) => console.log(RetryNotAllowedError.isInstance(error), error.status));

// Redrive the rest in bulk (filters: status, since, tag, limit).
const redriven = await syncAll.redrive({ tag: 'nightly' });
console.log(redriven.count); // 2
for (const key of redriven.keys) console.log(await syncAll.handle(key).result());

// Purge what you gave up on (none left here).
console.log(await purgeDeadLetters(store, { before: Date.now() })); // 0
