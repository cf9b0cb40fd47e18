import type { ComputationRecord } from '@au/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index';
import { deletePrefixes, randomPrefix, redisAvailable, redisUrl } from './redis-test-helpers';

const available = await redisAvailable();
const admin = new Redis(redisUrl, { lazyConnect: true });
const prefixes = new Set<string>();

afterAll(async () => {
  if (available) await deletePrefixes(admin, prefixes);
  admin.disconnect();
});

/** The statuses a watch yields until the record completes, or until `deadline` ms pass. */
async function statusesOf(iterable: AsyncIterable<ComputationRecord>, deadline: number): Promise<string[]> {
  const seen: string[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  const timeUp = new Promise<'time up'>((resolve) => setTimeout(() => resolve('time up'), deadline).unref());
  for (;;) {
    const next = await Promise.race([iterator.next(), timeUp]);
    if (next === 'time up' || next.done) break;
    seen.push(next.value.status);
    if (next.value.status === 'completed') break;
  }
  await iterator.return?.();
  return seen;
}

describe.runIf(available)('store-redis watches started in a burst', () => {
  // Regression: watches started back to back while the subscriber connection was still
  // connecting put it in subscriber mode during ioredis's ready check; the check failed,
  // the earlier SUBSCRIBEs were rejected and a later one was lost, so its watcher never
  // heard of its record again (a handle's `result()` waited out its timeout).
  it('should deliver the completion of every watched record', async () => {
    const prefix = randomPrefix('watch-burst');
    prefixes.add(prefix);
    const store = new RedisStore({ redis: redisUrl, prefix });
    const keys = Array.from({ length: 20 }, (_, index) => `w${index}`);
    for (const key of keys)
      await store.create({
        key,
        task: 't',
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: Date.now(),
      });
    const watches: Promise<string[]>[] = [];
    for (const key of keys) {
      watches.push(statusesOf(store.watch(key), 15_000));
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const key of keys) {
      await store.update(key, { status: 'running', attempt: 1, startedAt: Date.now() });
      await store.update(key, { status: 'completed', value: key, finishedAt: Date.now() });
    }
    const seen = await Promise.all(watches);
    expect(seen.map((statuses) => statuses.at(-1))).toEqual(keys.map(() => 'completed'));
    await store.close();
  }, 30_000);
});
