import { defineTask, InProcessBackend, MemoryStore, submitTask } from '@au/core';

const store = new MemoryStore();
const backend = new InProcessBackend({ concurrency: 10 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// 1. A concurrency key: one sync per account at a time; accounts run side by side.
const runningPerAccount = new Map<string, number>();
let mostPerAccount = 0;
let runningInAll = 0;
let mostInAll = 0;
const syncAccount = defineTask({
  name: 'sync-account',
  concurrency: { limit: 1, key: (input: { account: string }) => input.account },
  run: async ({ account }: { account: string }) => {
    const running = (runningPerAccount.get(account) ?? 0) + 1;
    runningPerAccount.set(account, running);
    mostPerAccount = Math.max(mostPerAccount, running);
    mostInAll = Math.max(mostInAll, ++runningInAll);
    await sleep(20);
    runningPerAccount.set(account, running - 1);
    runningInAll -= 1;
  },
});
const syncs = await Promise.all(
  ['acme', 'acme', 'acme', 'globex', 'globex'].map((account) =>
    submitTask(syncAccount, { account }, { store, backend }),
  ),
);
await Promise.all(syncs.map((sync) => sync.result()));
console.log(`most syncs at once: ${mostPerAccount} per account, ${mostInAll} in all`);

// 2. A rate limit: at most 2 calls start per 500 ms; the others wait, none is refused.
const callApi = defineTask({
  name: 'call-api',
  rateLimit: { limit: 2, interval: 500 },
  run: (n: number) => n * 10,
});
const calls = await Promise.all([1, 2, 3, 4, 5].map((n) => submitTask(callApi, n, { store, backend })));
console.log(await Promise.all(calls.map((call) => call.result())));
// The 5th start waits for the window to slide past the 1st and the 3rd (`startedAt` is
// stamped a few ms after the start is let through, hence the 50 ms of slack).
const starts = await Promise.all(calls.map(async (call) => (await call.record()).startedAt!));
console.log(`5 calls started over at least 1 s: ${Math.max(...starts) - Math.min(...starts) >= 1000 - 50}`);

// 3. Pause: launched work stays pending until resume; running work would finish.
await backend.pause('sync-account');
const paused = await submitTask(syncAccount, { account: 'initech' }, { store, backend });
await sleep(100);
console.log(await paused.status(), JSON.stringify(await backend.paused()));
await backend.resume('sync-account');
await paused.result();
console.log(await paused.status());

await backend.close();
