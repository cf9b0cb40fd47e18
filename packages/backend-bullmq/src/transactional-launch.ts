import { randomUUID } from 'node:crypto';
import type { ComputationRecord, ComputationStore } from '@au/core';
import type { ChainableCommander, Redis } from 'ioredis';

/**
 * A store whose `createMany` can go in a transaction of another connection to its Redis
 * (`RedisStore.createManyIn`), so that a launch writes the records and their jobs in one
 * round trip. Recognised by shape: this package does not depend on `@au/store-redis`.
 */
export interface TransactionalStore extends ComputationStore {
  readonly redis: Redis;
  createManyIn(
    client: Redis,
    records: readonly ComputationRecord[],
    options?: { conflictFlag?: string },
  ): Promise<{
    addTo(transaction: ChainableCommander): void;
    read(reply: [error: Error | null, result: unknown]): void;
  }>;
}

export function isTransactionalStore(store: ComputationStore): store is TransactionalStore {
  const candidate = store as Partial<TransactionalStore>;
  return typeof candidate.createManyIn === 'function' && typeof candidate.redis === 'object';
}

/**
 * Whether `store`'s connection reaches the server and database of `redis`: a value
 * written through one is read through the other. Names cannot tell: one server answers to
 * many host names, and a store may carry an id of its own. `undefined` when the store's
 * connection could not answer (its own operations then report why); a failure of
 * `redis` rejects.
 */
export async function reachesSameRedis(
  redis: Redis,
  store: TransactionalStore,
  probeKey: string,
): Promise<boolean | undefined> {
  if (redis.isCluster || store.redis.isCluster) return false;
  const token = randomUUID();
  await redis.set(probeKey, token, 'PX', 60_000);
  try {
    return (await store.redis.get(probeKey)) === token;
  } catch {
    return undefined;
  } finally {
    await redis.del(probeKey).catch(() => undefined);
  }
}

/**
 * Run when the create before it in the transaction was refused (its conflict flag is
 * set): a placeholder hash at each job key that has no job, so that BullMQ's adds after
 * it find the key taken and add nothing. KEYS: the conflict flag, then the job keys.
 */
const HOLD_JOBS_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then redis.call('HSET', KEYS[i], 'auHold', '1') end
end
return 1
`;

/** After the adds, in the same transaction: the placeholders and the conflict flag go. */
const RELEASE_JOBS_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'auHold') == 1 then redis.call('DEL', KEYS[i]) end
end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * Between the adds and the release, when the create was not refused: a task's job ids go
 * into its set of waiting jobs (`queued-jobs.ts`, tasks with `maxQueued`). Inside the
 * transaction no worker can start a job before its id is in. KEYS: the conflict flag,
 * the task's set. ARGV: the job ids.
 */
const TRACK_JOBS_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SADD', KEYS[2], unpack(ARGV))
return 1
`;

interface HoldCommands {
  auHoldJobs(keyCount: number, keys: readonly string[]): ChainableCommander;
  auReleaseJobs(keyCount: number, keys: readonly string[]): ChainableCommander;
  auTrackJobs(keyCount: number, flag: string, set: string, ...jobIds: string[]): ChainableCommander;
}

/**
 * Brackets BullMQ's adds in a transaction that begins with a create which may be refused
 * (`conflictFlag`): a refused create leaves every job key taken while the adds run, then
 * frees them, so the transaction adds no job when it creates no record; `track` puts job
 * ids in a task's set of waiting jobs only when the create was not refused. `client` is
 * the raw connection the transaction is made from: the scripts are defined on it here, so
 * make the transaction after this call.
 */
export function jobHold(client: Redis, conflictFlag: string, jobKeys: readonly string[]) {
  const scripted = client as Redis & Partial<HoldCommands>;
  if (typeof scripted.auHoldJobs !== 'function') {
    client.defineCommand('auHoldJobs', { lua: HOLD_JOBS_SCRIPT });
    client.defineCommand('auReleaseJobs', { lua: RELEASE_JOBS_SCRIPT });
    client.defineCommand('auTrackJobs', { lua: TRACK_JOBS_SCRIPT });
  }
  const keys = [conflictFlag, ...jobKeys];
  return {
    hold: (transaction: ChainableCommander) =>
      (transaction as ChainableCommander & HoldCommands).auHoldJobs(keys.length, keys),
    release: (transaction: ChainableCommander) =>
      (transaction as ChainableCommander & HoldCommands).auReleaseJobs(keys.length, keys),
    track: (transaction: ChainableCommander, set: string, jobIds: readonly string[]) =>
      (transaction as ChainableCommander & HoldCommands).auTrackJobs(2, conflictFlag, set, ...jobIds),
  };
}
