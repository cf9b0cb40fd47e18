import {
  ClosedError,
  type ComputationRecord,
  type ComputationStore,
  countComputations,
  InvalidKeyError,
  jsonCodec,
  KeyExistsError,
  structuredCodec,
  watchComputations,
} from '@au/core';
import { claimComputation, compareListOrder } from '@au/core/kit';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { caseDeclarer } from './internal/case';
import { uniqueId } from './internal/unique';
import { waitUntil } from './internal/wait-until';

/** What `testStore` checks, beyond the required methods. Every flag is optional. */
export interface TestStoreFlags {
  /** Run the `watch` cases. @default store.capabilities.watch */
  watch?: boolean;
  /**
   * `watch` may skip intermediate versions (e.g. a pub/sub watch that re-reads the
   * record once subscribed) but still yields versions in order and always the terminal
   * one. @default false: every version must be yielded
   */
  watchCoalesces?: boolean;
  /**
   * Follow every computation with the store's own `watchAll` (push); `false` checks core's
   * polling fallback (`watchComputations` over `list`) instead, which every store gets.
   * @default store.capabilities.watchAll
   */
  watchAll?: boolean;
  /** Check that a closed store rejects with `ClosedError`. @default true */
  closedError?: boolean;
  /**
   * Several stores made by `makeStore` share records (one table without a per-store
   * prefix or schema): `cleanupExpired` may then count other tests' records, so only a
   * lower bound is checked. @default false
   */
  sharedNamespace?: boolean;
  /** Case ids (the `[id]` at the end of each title) or full titles to skip. */
  skip?: string[];
  /** Multiplies every wait and time limit (slow stores, slow CI). @default 1 */
  timeoutScale?: number;
  /** Implementation-specific tests, declared inside the suite's `describe`. */
  extra?: (getStore: () => ComputationStore) => void;
}

/**
 * The conformance suite every `ComputationStore` passes. Call it at the top level of
 * the store's test file: `testStore('RedisStore', () => new RedisStore({ … }))`. A fresh
 * store is made for each test and closed after it. Records use random keys, task names
 * and tags, so stores sharing one server stay isolated.
 */
export function testStore(
  name: string,
  makeStore: () => ComputationStore | Promise<ComputationStore>,
  flags: TestStoreFlags = {},
): void {
  const scale = flags.timeoutScale ?? 1;
  const test = caseDeclarer(flags.skip);
  describe(`testStore(${name})`, () => {
    let store: ComputationStore | undefined;
    let closed = false;
    const getStore = (): ComputationStore => {
      if (store === undefined) throw new Error('[au] [testing] the store is made in beforeEach');
      return store;
    };
    let task = '';
    let count = 0;
    /** A record of this test's task with a fresh key; `overrides` win. */
    const record = (overrides: Partial<ComputationRecord> = {}): ComputationRecord => {
      count += 1;
      return {
        key: `${task}.${count}`,
        task,
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: Date.now(),
        ...overrides,
      };
    };
    const created = async (overrides: Partial<ComputationRecord> = {}) => {
      const value = record(overrides);
      await getStore().create(value);
      return value;
    };

    beforeEach(async () => {
      task = uniqueId('conformance');
      count = 0;
      closed = false;
      store = await makeStore();
    });
    afterEach(async () => {
      if (store !== undefined && !closed) await store.close();
      store = undefined;
    });

    describe('when creating, reading and deleting', () => {
      test('create-get', 'should return the created record from get', async () => {
        const original = await created({ args: { n: 1 }, tags: ['a', 'b'], meta: { m: true }, priority: 3 });
        expect(await getStore().get(original.key)).toEqual(original);
      });

      test('get-missing', 'should return undefined for a key never created', async () => {
        expect(await getStore().get(`${task}.missing`)).toBeUndefined();
      });

      test('create-existing', 'should refuse create of an existing key with KeyExistsError', async () => {
        const original = await created({ args: 'first' });
        const error = await getStore()
          .create({ ...original, args: 'second' })
          .catch((caught: unknown) => caught);
        expect(KeyExistsError.isInstance(error)).toBe(true);
        expect((await getStore().get(original.key))?.args).toBe('first');
      });

      test('delete', 'should delete a record and say whether there was one', async () => {
        const original = await created();
        expect(await getStore().delete(original.key)).toBe(true);
        expect(await getStore().get(original.key)).toBeUndefined();
        expect(await getStore().delete(original.key)).toBe(false);
      });

      test('create-after-delete', 'should accept create again after delete', async () => {
        const original = await created();
        await getStore().delete(original.key);
        await getStore().create({ ...original, args: 'again' });
        expect((await getStore().get(original.key))?.args).toBe('again');
      });
    });

    describe('when updating', () => {
      test('update-patch', 'should apply the patch and return the new record', async () => {
        const original = await created({ args: [1, 2] });
        const startedAt = Date.now();
        const updated = await getStore().update(original.key, { status: 'running', attempt: 1, startedAt });
        expect(updated).toEqual({ ...original, status: 'running', attempt: 1, startedAt });
        expect(await getStore().get(original.key)).toEqual(updated);
      });

      test(
        'logs-field',
        'should keep the log lines written with a status change and after it ends',
        async () => {
          const original = await created();
          const line = {
            time: Date.now(),
            level: 'info' as const,
            message: 'loaded',
            data: { rows: 3 },
            attempt: 1,
          };
          const running = await getStore().update(original.key, {
            status: 'running',
            attempt: 1,
            logs: { lines: [line], dropped: 0 },
          });
          expect(running?.logs).toEqual({ lines: [line], dropped: 0 });
          const more = { lines: [line, { ...line, level: 'warn' as const, message: 'slow' }], dropped: 2 };
          await getStore().update(original.key, {
            status: 'failed',
            error: { name: 'Error', message: 'x' },
            logs: more,
          });
          expect((await getStore().get(original.key))?.logs).toEqual(more);
          expect((await getStore().list({ task })).records[0]?.logs).toEqual(more);
        },
      );

      test('update-missing', 'should return undefined when updating a key that does not exist', async () => {
        expect(await getStore().update(`${task}.missing`, { status: 'running' })).toBeUndefined();
        expect(await getStore().get(`${task}.missing`)).toBeUndefined();
      });

      test('if-status', 'should apply an update only when the status is one of ifStatus', async () => {
        const original = await created();
        expect(
          await getStore().update(original.key, { status: 'running' }, { ifStatus: ['running'] }),
        ).toBeUndefined();
        expect(
          await getStore().update(original.key, { progress: 1 }, { ifStatus: ['running', 'completed'] }),
        ).toBeUndefined();
        expect(await getStore().get(original.key)).toEqual(original);
        const updated = await getStore().update(
          original.key,
          { status: 'running' },
          { ifStatus: ['pending', 'running'] },
        );
        expect(updated?.status).toBe('running');
      });

      test('undefined-removes', 'should remove a field the patch sets to undefined', async () => {
        const original = await created({ runAt: Date.now() + 1000, progress: { done: 1 }, meta: { a: 1 } });
        const updated = await getStore().update(original.key, { runAt: undefined, progress: undefined });
        expect(updated).toBeDefined();
        expect('runAt' in updated!).toBe(false);
        expect('progress' in updated!).toBe(false);
        const stored = await getStore().get(original.key);
        expect(stored).toEqual({ ...original, runAt: undefined, progress: undefined });
        expect(stored !== undefined && 'runAt' in stored).toBe(false);
        expect(stored !== undefined && 'progress' in stored).toBe(false);
        expect(stored?.meta).toEqual({ a: 1 });
      });

      test('status-machine', 'should refuse a transition outside the status machine', async () => {
        const original = await created();
        expect(await getStore().update(original.key, { status: 'completed', value: 1 })).toBeUndefined();
        expect(await getStore().get(original.key)).toEqual(original);
      });

      test(
        'pending-failed',
        'should end a pending record failed (a computation that can never start)',
        async () => {
          const original = await created();
          const failed = await getStore().update(
            original.key,
            {
              status: 'failed',
              error: { name: 'TaskNotFoundError', message: 'no such task' },
              finishedAt: Date.now(),
            },
            { ifStatus: ['pending', 'running'] },
          );
          expect(failed?.status).toBe('failed');
          expect((await getStore().get(original.key))?.error?.name).toBe('TaskNotFoundError');
        },
      );

      test(
        'terminal-final',
        'should never change the status, value or error of a terminal record',
        async () => {
          const original = await created({ status: 'completed', value: 'first', finishedAt: Date.now() });
          const store = getStore();
          expect(await store.update(original.key, { status: 'running' })).toBeUndefined();
          expect(await store.update(original.key, { value: 'second' })).toBeUndefined();
          expect(
            await store.update(original.key, { status: 'failed', error: { name: 'E', message: 'm' } }),
          ).toBe(undefined);
          expect(
            await store.update(
              original.key,
              { status: 'completed', value: 'third' },
              { ifStatus: ['running'] },
            ),
          ).toBeUndefined();
          expect(await store.get(original.key)).toEqual(original);
        },
      );

      test(
        'terminal-bookkeeping',
        'should still let a terminal record change its expiresAt and meta',
        async () => {
          const original = await created({ status: 'failed', error: { name: 'E', message: 'm' } });
          const expiresAt = Date.now() + 60_000;
          const updated = await getStore().update(original.key, { expiresAt, meta: { seen: true } });
          expect(updated).toEqual({ ...original, expiresAt, meta: { seen: true } });
        },
      );

      test(
        'reopen',
        'should re-open a failed or cancelled record only with reopen (core retry), history kept',
        async () => {
          const store = getStore();
          const finishedAt = Date.now();
          const error = { name: 'E', message: 'm' };
          const failed = await created({
            status: 'failed',
            attempt: 1,
            error,
            startedAt: finishedAt - 5,
            finishedAt,
            expiresAt: finishedAt + 60_000,
            tags: ['dead'],
          });
          const history = [
            { attempt: 1, status: 'failed' as const, error, startedAt: finishedAt - 5, finishedAt },
          ];
          const reopen = {
            status: 'pending' as const,
            history,
            maxAttempts: 3,
            error: undefined,
            value: undefined,
            startedAt: undefined,
            finishedAt: undefined,
            expiresAt: undefined,
          };
          // Without the flag, and with it but from another status or to another status: nothing.
          expect(await store.update(failed.key, reopen, { ifStatus: ['failed'] })).toBeUndefined();
          expect(
            await store.update(
              failed.key,
              { ...reopen, status: 'running' },
              { ifStatus: ['failed'], reopen: true },
            ),
          ).toBeUndefined();
          expect(
            await store.update(failed.key, reopen, { ifStatus: ['cancelled'], reopen: true }),
          ).toBeUndefined();
          expect(await store.get(failed.key)).toEqual(failed);
          const reopened = await store.update(failed.key, reopen, { ifStatus: ['failed'], reopen: true });
          const expected = { ...failed, status: 'pending', history, maxAttempts: 3 };
          for (const field of ['error', 'startedAt', 'finishedAt', 'expiresAt'] as const)
            delete expected[field];
          expect(reopened).toEqual(expected);
          expect(await store.get(failed.key)).toEqual(expected);
          expect((await store.list({ task, status: 'pending' })).records.map((item) => item.key)).toEqual([
            failed.key,
          ]);
          expect((await store.list({ task, status: 'failed' })).records).toEqual([]);

          const completed = await created({ status: 'completed', value: 1, finishedAt });
          expect(await store.update(completed.key, reopen, { reopen: true })).toBeUndefined();
          expect(await store.get(completed.key)).toEqual(completed);
          const cancelled = await created({ status: 'cancelled', error, finishedAt });
          expect(
            (await store.update(cancelled.key, reopen, { ifStatus: ['cancelled'], reopen: true }))?.status,
          ).toBe('pending');
        },
      );

      test('cancel-beats-completion', 'should let a cancel beat a late completion', async () => {
        const original = await created({ status: 'running', attempt: 1 });
        const store = getStore();
        const cancelled = await store.update(
          original.key,
          { status: 'cancelled', error: { name: 'CancelledError', message: 'stop' }, finishedAt: Date.now() },
          { ifStatus: ['pending', 'running'] },
        );
        expect(cancelled?.status).toBe('cancelled');
        expect(
          await store.update(original.key, { status: 'completed', value: 42 }, { ifStatus: ['running'] }),
        ).toBeUndefined();
        expect(await store.update(original.key, { status: 'completed', value: 42 })).toBeUndefined();
        const stored = await store.get(original.key);
        expect(stored?.status).toBe('cancelled');
        expect(stored?.value).toBeUndefined();
      });

      test(
        'concurrent-updates',
        'should let exactly one of 50 concurrent conditional updates win',
        async () => {
          const original = await created();
          const store = getStore();
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, index) =>
              store.update(
                original.key,
                { status: 'running', attempt: 1, meta: { winner: index } },
                { ifStatus: ['pending'] },
              ),
            ),
          );
          const winners = results.flatMap((result, index) => (result === undefined ? [] : [index]));
          expect(winners).toHaveLength(1);
          const stored = await store.get(original.key);
          expect(stored?.status).toBe('running');
          expect(stored?.meta).toEqual({ winner: winners[0] });
        },
        { timeout: 20_000 * scale },
      );
    });

    describe("when claiming (claimComputation: the store's claim, else get + update)", () => {
      test(
        'claim-pending',
        'should claim a pending record: running, attempt counted, runAt cleared',
        async () => {
          const original = await created({ runAt: Date.now() - 10, attempt: 1, maxAttempts: 3 });
          const now = Date.now();
          const claim = await claimComputation(getStore(), original.key, { now });
          expect(claim.claimed).toBe(true);
          const expected = { ...original, status: 'running', attempt: 2, startedAt: now };
          delete (expected as Partial<ComputationRecord>).runAt;
          expect(claim.record).toEqual(expected);
          expect(await getStore().get(original.key)).toEqual(expected);
        },
      );

      test('claim-running', 'should reclaim a running record only when asked to', async () => {
        const original = await created({ status: 'running', attempt: 1, startedAt: Date.now() - 1000 });
        const refused = await claimComputation(getStore(), original.key, { now: Date.now() });
        expect(refused).toEqual({ claimed: false, record: original });
        const now = Date.now();
        const reclaimed = await claimComputation(getStore(), original.key, { now, reclaimRunning: true });
        expect(reclaimed).toEqual({ claimed: true, record: { ...original, attempt: 2, startedAt: now } });
      });

      test('claim-terminal', 'should not claim a terminal record, and return it unchanged', async () => {
        const original = await created({ status: 'completed', value: 1, finishedAt: Date.now() });
        const claim = await claimComputation(getStore(), original.key, {
          now: Date.now(),
          reclaimRunning: true,
        });
        expect(claim).toEqual({ claimed: false, record: original });
        expect(await getStore().get(original.key)).toEqual(original);
      });

      test('claim-missing', 'should return no record for a missing or expired key', async () => {
        expect(await claimComputation(getStore(), `${task}.missing`, { now: Date.now() })).toEqual({
          claimed: false,
          record: undefined,
        });
        const expired = await created({ expiresAt: Date.now() - 1000 });
        expect(await claimComputation(getStore(), expired.key, { now: Date.now() })).toEqual({
          claimed: false,
          record: undefined,
        });
      });

      test('claim-race', 'should let exactly one of many concurrent claims win', async () => {
        const original = await created();
        const claims = await Promise.all(
          Array.from({ length: 8 }, () => claimComputation(getStore(), original.key, { now: Date.now() })),
        );
        expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
        expect((await getStore().get(original.key))?.attempt).toBe(1);
      });
    });

    describe('when creating many (createMany, where the store has it)', () => {
      test('create-many', 'should store every record, listed and readable', async (context) => {
        const store = getStore();
        if (store.createMany === undefined) return context.skip();
        const records = [record({ args: 1, tags: ['x'] }), record({ args: 2 }), record({ args: 3 })];
        await store.createMany(records);
        for (const original of records) expect(await store.get(original.key)).toEqual(original);
        const page = await store.list({ task, status: 'pending' });
        expect(page.records.map((item) => item.key).sort()).toEqual(records.map((item) => item.key).sort());
        expect((await store.list({ tag: 'x' })).records.map((item) => item.key)).toEqual([records[0]!.key]);
      });

      test(
        'create-many-large',
        'should store a batch of 10,000 records with tags and expiry in one call',
        async (context) => {
          const store = getStore();
          if (store.createMany === undefined) return context.skip();
          // Big enough that an implementation spreading one argument per field, or
          // binding one SQL parameter per field, runs past the engine's limits.
          const expiresAt = Date.now() + 3_600_000;
          const records = Array.from({ length: 10_000 }, (_, index) =>
            record({
              args: { index, text: 'x'.repeat(20) },
              tags: ['bulk', `b${index % 7}`],
              ttl: 3600,
              expiresAt,
            }),
          );
          await store.createMany(records);
          expect(await countComputations(store, { task })).toBe(records.length);
          for (const original of [records[0]!, records[4_999]!, records[9_999]!]) {
            expect(await store.get(original.key)).toEqual(original);
          }
        },
        { timeout: 60_000 * scale },
      );

      test('create-many-existing', 'should store none when one key is taken', async (context) => {
        const store = getStore();
        if (store.createMany === undefined) return context.skip();
        const taken = await created({ args: 'first' });
        const fresh = record();
        const error = await store
          .createMany([fresh, { ...taken, args: 'second' }])
          .catch((caught: unknown) => caught);
        expect(KeyExistsError.isInstance(error)).toBe(true);
        expect(await store.get(fresh.key)).toBeUndefined();
        expect((await store.get(taken.key))?.args).toBe('first');
      });

      test(
        'create-many-refused',
        'should store none of a batch with a key twice or an invalid key',
        async (context) => {
          const store = getStore();
          if (store.createMany === undefined) return context.skip();
          const fresh = record();
          const twice = await store.createMany([fresh, record(), fresh]).catch((caught: unknown) => caught);
          expect(KeyExistsError.isInstance(twice)).toBe(true);
          const invalid = await store
            .createMany([fresh, record({ key: '../escape' })])
            .catch((caught: unknown) => caught);
          expect(InvalidKeyError.isInstance(invalid)).toBe(true);
          expect(await store.get(fresh.key)).toBeUndefined();
          expect((await store.list({ task })).records).toEqual([]);
        },
      );
    });

    describe('when records expire', () => {
      test(
        'expired-invisible',
        'should hide a record whose expiresAt has passed from get and list',
        async () => {
          const expired = await created({ status: 'completed', value: 1, expiresAt: Date.now() - 1000 });
          const live = await created({ status: 'completed', value: 2, expiresAt: Date.now() + 60_000 });
          expect(await getStore().get(expired.key)).toBeUndefined();
          expect((await getStore().get(live.key))?.value).toBe(2);
          const page = await getStore().list({ task });
          expect(page.records.map((item) => item.key)).toEqual([live.key]);
          expect(await getStore().update(expired.key, { meta: { touched: true } })).toBeUndefined();
        },
      );

      test('create-over-expired', 'should accept create of a key whose record has expired', async () => {
        const expired = await created({ status: 'completed', value: 1, expiresAt: Date.now() - 1000 });
        await getStore().create({ ...expired, status: 'pending', value: undefined, expiresAt: undefined });
        expect((await getStore().get(expired.key))?.status).toBe('pending');
      });

      test(
        'expire-then-create',
        'should free the key of a finished record made to expire by a conditional update (a keyed relaunch)',
        async () => {
          const finished = await created({ status: 'completed', value: 1, finishedAt: Date.now() - 5000 });
          // Only while it is still completed: another status leaves it alone.
          expect(
            await getStore().update(finished.key, { expiresAt: Date.now() }, { ifStatus: ['failed'] }),
          ).toBe(undefined);
          expect((await getStore().get(finished.key))?.status).toBe('completed');
          await getStore().update(finished.key, { expiresAt: Date.now() }, { ifStatus: ['completed'] });
          expect(await getStore().get(finished.key)).toBeUndefined();
          await getStore().create({
            ...finished,
            status: 'pending',
            value: undefined,
            finishedAt: undefined,
          });
          expect((await getStore().get(finished.key))?.status).toBe('pending');
        },
      );

      test(
        'cleanup-expired',
        'should remove expired records in cleanupExpired and return the count',
        async () => {
          const store = getStore();
          const now = Date.now();
          const expired = await Promise.all(
            [1, 2, 3].map(() => created({ status: 'completed', expiresAt: now - 1000 })),
          );
          const later = await created({ status: 'completed', expiresAt: now + 60_000 });
          const kept = await created();
          const removed = await store.cleanupExpired();
          if (store.capabilities.nativeTtl) {
            expect(removed).toBeGreaterThanOrEqual(0);
            if (!flags.sharedNamespace) expect(removed).toBeLessThanOrEqual(3);
          } else if (flags.sharedNamespace) expect(removed).toBeGreaterThanOrEqual(3);
          else expect(removed).toBe(3);
          for (const item of expired) expect(await store.get(item.key)).toBeUndefined();
          expect(await store.get(later.key)).toBeDefined();
          expect(await store.get(kept.key)).toBeDefined();
          const inFuture = await store.cleanupExpired(now + 120_000);
          if (flags.sharedNamespace) expect(inFuture).toBeGreaterThanOrEqual(1);
          else expect(inFuture).toBe(1);
          expect(await store.get(later.key)).toBeUndefined();
          expect(await store.get(kept.key)).toBeDefined();
        },
      );
    });

    describe('when listing', () => {
      test('list-filters', 'should filter by status, several statuses, task and tag', async () => {
        const store = getStore();
        const tag = uniqueId('tag');
        const base = Date.now();
        const pending = await created({ createdAt: base, tags: [tag] });
        const running = await created({ createdAt: base + 1, status: 'running' });
        const done = await created({ createdAt: base + 2, status: 'completed', tags: ['other', tag] });
        const keys = async (query: Parameters<ComputationStore['list']>[0]) =>
          (await store.list(query)).records.map((item) => item.key);
        expect(await keys({ task })).toEqual([done.key, running.key, pending.key]);
        expect(await keys({ task, status: 'running' })).toEqual([running.key]);
        expect(await keys({ task, status: ['pending', 'completed'] })).toEqual([done.key, pending.key]);
        expect(await keys({ task, status: 'failed' })).toEqual([]);
        expect(await keys({ tag })).toEqual([done.key, pending.key]);
        expect(await keys({ task, tag, status: 'completed' })).toEqual([done.key]);
        expect(await keys({ task: `${task}-none` })).toEqual([]);
        const [first] = (await store.list({ task, status: 'completed' })).records;
        expect(first).toEqual(done);
      });

      test(
        'list-paging',
        'should page through 500 records in list order with no duplicates and no gaps',
        async () => {
          const store = getStore();
          const base = Date.now() - 100_000;
          const records = Array.from({ length: 500 }, (_, index) =>
            record({ createdAt: base + (index % 40), status: index % 3 === 0 ? 'completed' : 'pending' }),
          );
          for (let start = 0; start < records.length; start += 50) {
            await Promise.all(records.slice(start, start + 50).map((item) => store.create(item)));
          }
          const expected = [...records].sort(compareListOrder).map((item) => item.key);
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.list({ task, limit: 37, ...(cursor === undefined ? {} : { cursor }) });
            expect(page.records.length).toBeLessThanOrEqual(37);
            seen.push(...page.records.map((item) => item.key));
            cursor = page.cursor;
            pages += 1;
            expect(pages).toBeLessThanOrEqual(20);
          } while (cursor !== undefined);
          expect(new Set(seen).size).toBe(seen.length);
          expect(seen).toEqual(expected);

          const completed: string[] = [];
          cursor = undefined;
          do {
            const page = await store.list({
              task,
              status: 'completed',
              limit: 50,
              ...(cursor === undefined ? {} : { cursor }),
            });
            completed.push(...page.records.map((item) => item.key));
            cursor = page.cursor;
          } while (cursor !== undefined);
          expect(completed).toEqual(
            [...records]
              .filter((item) => item.status === 'completed')
              .sort(compareListOrder)
              .map((item) => item.key),
          );
        },
        { timeout: 30_000 * scale },
      );

      test('count', 'should count live records by status, task and tag (countComputations)', async () => {
        const store = getStore();
        const tag = uniqueId('tag');
        const base = Date.now();
        await created({ createdAt: base, tags: [tag] });
        await created({ createdAt: base + 1, status: 'running' });
        await created({ createdAt: base + 2, status: 'failed', tags: [tag] });
        await created({ createdAt: base + 3, status: 'failed' });
        await created({ createdAt: base + 4, status: 'failed', expiresAt: base - 1 });
        expect(await countComputations(store, { task })).toBe(4);
        expect(await countComputations(store, { task, status: 'failed' })).toBe(2);
        expect(await countComputations(store, { task, status: ['pending', 'running'] })).toBe(2);
        expect(await countComputations(store, { tag })).toBe(2);
        expect(await countComputations(store, { tag, status: 'failed' })).toBe(1);
        expect(await countComputations(store, { task: `${task}-none` })).toBe(0);
        if (store.count !== undefined) expect(await store.count({ task, status: 'failed' })).toBe(2);
      });

      test(
        'list-limit',
        'should default to 100 records a page and refuse limits outside 1 to 1000',
        async () => {
          const store = getStore();
          const records = Array.from({ length: 120 }, (_, index) => record({ createdAt: 1_000_000 + index }));
          for (let start = 0; start < records.length; start += 40) {
            await Promise.all(records.slice(start, start + 40).map((item) => store.create(item)));
          }
          const first = await store.list({ task });
          expect(first.records).toHaveLength(100);
          expect(first.cursor).toBeDefined();
          const rest = await store.list({ task, cursor: first.cursor! });
          expect(rest.records).toHaveLength(20);
          expect(rest.cursor).toBeUndefined();
          expect((await store.list({ task, limit: 1000 })).records).toHaveLength(120);
          expect((await store.list({ task, limit: 1 })).records.map((item) => item.key)).toEqual([
            records[119]!.key,
          ]);
          for (const limit of [0, -1, 1001, 1.5]) {
            await expect(store.list({ task, limit })).rejects.toThrow();
          }
        },
      );
    });

    describe('when keys are invalid', () => {
      const invalidKeys = ['../x', 'a/b', '', 'k'.repeat(201), '..', 'a b', 'x\n'];
      test('invalid-keys', 'should refuse invalid keys with InvalidKeyError in every method', async () => {
        const store = getStore();
        for (const key of invalidKeys) {
          const attempts: [string, () => Promise<unknown>][] = [
            ['get', () => store.get(key)],
            ['create', () => store.create(record({ key }))],
            ['update', () => store.update(key, { status: 'running' })],
            ['delete', () => store.delete(key)],
          ];
          for (const [method, attempt] of attempts) {
            const error = await Promise.resolve()
              .then(attempt)
              .then(
                () => undefined,
                (caught: unknown) => caught,
              );
            expect(InvalidKeyError.isInstance(error), `${method}(${JSON.stringify(key)})`).toBe(true);
          }
        }
        expect((await store.list({ task })).records).toEqual([]);
      });

      test('longest-key', 'should accept a key of 200 characters', async () => {
        const key = `${task}.`.padEnd(200, 'k');
        await getStore().create(record({ key }));
        expect((await getStore().get(key))?.key).toBe(key);
      });
    });

    describe('when values are large or encoded', () => {
      test(
        'large-value',
        'should round-trip a 5 MB value and 5 MB arguments',
        async () => {
          const big = 'x'.repeat(5 * 1024 * 1024);
          const original = await created({ status: 'running', args: { big } });
          const updated = await getStore().update(original.key, {
            status: 'completed',
            value: { big, tail: 'end' },
          });
          expect(updated?.status).toBe('completed');
          const stored = await getStore().get(original.key);
          expect((stored?.value as { big?: string } | undefined)?.big?.length).toBe(big.length);
          expect(stored?.value).toEqual({ big, tail: 'end' });
          expect(stored?.args).toEqual({ big });
        },
        { timeout: 30_000 * scale },
      );

      test('json-codec', 'should keep values encoded by jsonCodec', async () => {
        const value = { date: new Date(0), list: [1, 'two', null, { nested: true }], unicode: 'é✓😀' };
        const original = await created({ status: 'running', args: jsonCodec.encode([value]) });
        await getStore().update(original.key, { status: 'completed', value: jsonCodec.encode(value) });
        const stored = await getStore().get(original.key);
        expect(jsonCodec.decode(stored?.value)).toEqual({ ...value, date: '1970-01-01T00:00:00.000Z' });
        expect(jsonCodec.decode(stored?.args)).toEqual([{ ...value, date: '1970-01-01T00:00:00.000Z' }]);
      });

      test('structured-codec', 'should keep values encoded by structuredCodec', async () => {
        const value = {
          date: new Date(86_400_000),
          map: new Map<string, unknown>([['a', 1]]),
          set: new Set([1, 2]),
          big: 2n ** 70n,
          bytes: new Uint8Array([0, 1, 255]),
          error: Object.assign(new RangeError('out of range'), { code: 'E_RANGE' }),
        };
        const original = await created({ status: 'running' });
        await getStore().update(original.key, { status: 'completed', value: structuredCodec.encode(value) });
        const decoded = structuredCodec.decode((await getStore().get(original.key))?.value) as typeof value;
        expect(decoded.date).toEqual(value.date);
        expect(decoded.map).toEqual(value.map);
        expect(decoded.set).toEqual(value.set);
        expect(decoded.big).toBe(value.big);
        expect(decoded.bytes).toEqual(value.bytes);
        expect(decoded.error).toBeInstanceOf(Error);
        expect(decoded.error.message).toBe('out of range');
      });
    });

    describe('when watching', () => {
      test(
        'watch-changes',
        'should yield each change in order and end after the terminal version',
        async (context) => {
          const store = getStore();
          if (!(flags.watch ?? store.capabilities.watch) || store.watch === undefined) {
            context.skip('the store has no watch');
          }
          const original = await created();
          const controller = new AbortController();
          const seen: ComputationRecord[] = [];
          const consumed = (async () => {
            for await (const version of store.watch!(original.key, controller.signal)) seen.push(version);
          })();
          await store.update(original.key, { status: 'running', attempt: 1 });
          await store.update(original.key, { progress: 1 });
          await store.update(original.key, { progress: 2 });
          await store.update(original.key, { status: 'completed', value: 'done', progress: 3 });
          const timer = setTimeout(() => controller.abort(), 5000 * scale);
          await consumed;
          clearTimeout(timer);
          expect(controller.signal.aborted, 'the watch should end by itself after the terminal version').toBe(
            false,
          );
          const last = seen[seen.length - 1];
          expect(last?.status).toBe('completed');
          expect(last?.value).toBe('done');
          const progress = seen.map((version) => (version.progress as number | undefined) ?? 0);
          expect(progress).toEqual([...progress].sort((a, b) => a - b));
          const rank = (status: string) => (status === 'pending' ? 0 : status === 'running' ? 1 : 2);
          const ranks = seen.map((version) => rank(version.status));
          expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
          if (!flags.watchCoalesces) {
            expect(seen.map((version) => [version.status, version.progress])).toEqual([
              ['running', undefined],
              ['running', 1],
              ['running', 2],
              ['completed', 3],
            ]);
          }
        },
        { timeout: 10_000 * scale, when: flags.watch !== false },
      );

      test(
        'watch-abort',
        'should end the watch when its signal aborts',
        async (context) => {
          const store = getStore();
          if (!(flags.watch ?? store.capabilities.watch) || store.watch === undefined) {
            context.skip('the store has no watch');
          }
          const original = await created();
          const controller = new AbortController();
          const seen: ComputationRecord[] = [];
          const consumed = (async () => {
            for await (const version of store.watch!(original.key, controller.signal)) seen.push(version);
          })();
          await store.update(original.key, { status: 'running' });
          await new Promise((resolve) => setTimeout(resolve, 50));
          controller.abort();
          await consumed;
          expect(seen.every((version) => version.status === 'running')).toBe(true);
        },
        { timeout: 10_000 * scale, when: flags.watch !== false },
      );
    });

    describe('when following every computation', () => {
      test(
        'watch-all',
        'should yield new records and their changes that match the filter, and end on abort',
        async () => {
          const store = getStore();
          const push =
            (flags.watchAll ?? store.capabilities.watchAll === true) && store.watchAll !== undefined;
          const controller = new AbortController();
          const seen: ComputationRecord[] = [];
          const ended: ComputationRecord[] = [];
          // Through core's watchComputations: the store's push when it has one, else polling.
          const follow = (filter: Parameters<typeof watchComputations>[1], into: ComputationRecord[]) =>
            (async () => {
              const versions = push
                ? store.watchAll!(filter ?? {}, controller.signal)
                : watchComputations(store, filter, { signal: controller.signal, interval: 25 });
              for await (const version of versions) into.push(version);
            })();
          const all = follow({ task }, seen);
          const completedOnly = follow({ task, status: 'completed' }, ended);
          try {
            // A subscription may take a moment to be in place: touch a probe until it is seen.
            const probe = await created();
            let touch = 0;
            await waitUntil(
              async () => {
                await store.update(probe.key, { progress: ++touch });
                return seen.some((version) => version.key === probe.key);
              },
              { timeout: 5000 * scale, interval: 50, message: 'the watch to see a change' },
            );
            const other = uniqueId('other');
            await store.create({ ...record(), key: `${other}.1`, task: other });
            // A batch's new records are followed too.
            const batched = store.createMany === undefined ? undefined : record();
            if (batched !== undefined) await store.createMany!([batched]);
            const followed = await created({ tags: ['watched'] });
            await store.update(followed.key, { status: 'running', attempt: 1 });
            await store.update(followed.key, { progress: 1 });
            await store.update(followed.key, { status: 'completed', value: 'done' });
            await waitUntil(
              () =>
                seen.some((version) => version.key === followed.key && version.status === 'completed') &&
                ended.some((version) => version.key === followed.key),
              { timeout: 5000 * scale, message: 'the watch to see the completion' },
            );
            const versions = seen.filter((version) => version.key === followed.key);
            const rank = (status: string) => (status === 'pending' ? 0 : status === 'running' ? 1 : 2);
            const ranks = versions.map((version) => rank(version.status));
            expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
            expect(versions.at(-1)).toMatchObject({ status: 'completed', value: 'done', tags: ['watched'] });
            if (push) expect(versions[0]?.status, 'a pushed watch sees the new record').toBe('pending');
            if (batched !== undefined) {
              await waitUntil(() => seen.some((version) => version.key === batched.key), {
                timeout: 5000 * scale,
                message: 'the watch to see the record created by createMany',
              });
              const first = seen.find((version) => version.key === batched.key);
              expect(first?.status).toBe('pending');
            }
            expect(seen.every((version) => version.task === task)).toBe(true);
            expect(ended.length).toBeGreaterThan(0);
            expect(ended.every((version) => version.status === 'completed')).toBe(true);
          } finally {
            controller.abort();
            await Promise.all([all, completedOnly]);
          }
        },
        { timeout: 15_000 * scale },
      );
    });

    describe('when closed', () => {
      test(
        'closed',
        'should reject calls after close with ClosedError',
        async () => {
          const store = getStore();
          const original = await created();
          await store.close();
          closed = true;
          const attempts: [string, () => Promise<unknown>][] = [
            ['get', () => store.get(original.key)],
            ['create', () => store.create(record())],
            ['update', () => store.update(original.key, { status: 'running' })],
            ['delete', () => store.delete(original.key)],
            ['list', () => store.list({ task })],
            ['cleanupExpired', () => store.cleanupExpired()],
            ['claim', () => claimComputation(store, original.key, { now: Date.now() })],
          ];
          if (store.createMany !== undefined)
            attempts.push(['createMany', () => store.createMany!([record()])]);
          for (const [method, attempt] of attempts) {
            const error = await Promise.resolve()
              .then(attempt)
              .then(
                () => undefined,
                (caught: unknown) => caught,
              );
            expect(ClosedError.isInstance(error), method).toBe(true);
          }
          await store.close();
        },
        { when: flags.closedError !== false },
      );
    });

    if (flags.extra !== undefined) describe('extra', () => flags.extra!(getStore));
  });
}
