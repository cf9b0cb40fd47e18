import { type ComputationStore, StoreMismatchError, type TaskLogger } from '@au/core';
import type { Redis } from 'ioredis';

/**
 * The Redis key that holds the id of the store a queue's records live in. A job id never
 * holds `:` (see `toJobId`), so no BullMQ job key can collide with it.
 */
export function storeBindingKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:au:store`;
}

/** Sets the key when it is absent and returns what it holds: one atomic step. */
const RECORD_IF_ABSENT = `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

export interface RecordStoreBindingOptions {
  prefix: string;
  queue: string;
  store: ComputationStore;
  logger: TaskLogger;
  /** Who checks, for the error: `backend bullmq`, `worker bullmq`. */
  component: string;
}

/**
 * Records `store.id` under the queue when no store is recorded yet, and throws
 * `StoreMismatchError` when another one is: a producer and a worker over different
 * stores would each wait for records the other writes elsewhere. A store without an id
 * cannot be compared across processes; the check is skipped.
 */
export async function recordStoreBinding(redis: Redis, options: RecordStoreBindingOptions): Promise<void> {
  const { store, queue, logger, component } = options;
  const key = storeBindingKey(options.prefix, queue);
  if (store.id === undefined) {
    logger.debug(
      { queue, store: store.name },
      `[au] [bullmq] ${component}: store "${store.name}" has no id, so queue "${queue}" cannot check that producers and workers share it`,
    );
    return;
  }
  const bound = (await redis.eval(RECORD_IF_ABSENT, 1, key, store.id)) as string;
  if (bound !== store.id) {
    logger.error(
      { queue, key, bound, given: store.id },
      `[au] [bullmq] ${component}: queue "${queue}" is bound to store ${bound} (Redis key ${key}); delete that key only if the queue really moves to another store`,
    );
    throw new StoreMismatchError({ component: `${component} (queue "${queue}")`, bound, given: store.id });
  }
}

/** Whether two store objects write the same records: the same object, or the same id. */
export function isSameStore(bound: ComputationStore, given: ComputationStore): boolean {
  return bound === given || (bound.id !== undefined && bound.id === given.id);
}

/** How a store is named in a mismatch: its id, else its name. */
export function describeStore(store: ComputationStore): string {
  return store.id ?? `"${store.name}" (a store object without id)`;
}
