import { LockUnavailableError, MemoryLocks, withLock } from '@au/core';

// The guarded resource: it remembers the highest fencing token it accepted and refuses
// lower ones, so a holder whose lock expired unnoticed cannot write over its successor.
const ledger = { lastToken: 0, entries: [] as string[] };
function append(entry: string, token: number): void {
  if (token <= ledger.lastToken) throw new Error(`refused: token ${token} is stale`);
  ledger.lastToken = token;
  ledger.entries.push(entry);
}

// In production: new RedisLocks({ redis: 'redis://127.0.0.1:6379' }) from @au/store-redis,
// or new PostgresLocks({ connection: 'postgres://…' }) from @au/store-supabase.
const locks = new MemoryLocks();

// Three workers bill invoice 42 at once: they run one at a time, each with a higher token.
await Promise.all(
  ['a', 'b', 'c'].map((worker) =>
    withLock(locks, 'invoice:42', async ({ token }) => append(`billed by ${worker}`, token), {
      ttl: 10_000,
      wait: 5_000,
    }),
  ),
);
console.log(ledger.entries.length, ledger.lastToken);

// A late writer with an old token is refused by the resource.
try {
  append('billed again', 1);
} catch (error) {
  console.log((error as Error).message);
}

// Without `wait`, a lock someone holds is refused at once.
const held = await locks.acquire('invoice:42', 10_000);
try {
  await withLock(locks, 'invoice:42', () => 'never runs', { ttl: 10_000 });
} catch (error) {
  if (LockUnavailableError.isInstance(error)) console.log(error.code);
}
await locks.release('invoice:42', held!.token);

// The provider's own withLock, and fn's result passed through.
console.log(await locks.withLock('invoice:42', ({ token }) => `done with token ${token}`, { ttl: 10_000 }));
