import {
  asyncCompute,
  ComputationNotFoundError,
  countDeadLetters,
  defineTask,
  listDeadLetters,
  NothingToRedriveError,
  purgeDeadLetters,
  QueueFullError,
  RetryNotAllowedError,
} from '@au/core';
import { describe, expect } from 'vitest';
import { conformanceTasks } from './conformance-tasks';
import type { BackendSuite } from './internal/backend-suite';
import { uniqueId } from './internal/unique';
import { waitUntil } from './internal/wait-until';

const ENDED = ['completed', 'failed', 'cancelled'] as const;

/** Far enough ahead that a delayed computation waits for the whole test. */
const LATER = 60_000;

/**
 * The retry, redrive and dead-letter cases of `testBackend`: an explicit retry re-opens a
 * failed or cancelled computation under its key and keeps the attempt history; bad
 * retries change nothing; a retry passes the queue's bound and waits for the parents of
 * a dependent as a launch does; a redrive retries the dead letters that match; the
 * `deadLetter` hook runs where the task runs. Declared inside the suite's `describe`.
 */
export function testBackendRetries(suite: BackendSuite): void {
  const { test, scale, background } = suite;

  describe('when retried, redriven or dead', () => {
    test(
      'retry-history',
      'should retry a failed computation under its key with a fresh budget and keep each attempt in history',
      async () => {
        const backend = await suite.getBackend();
        const store = suite.getStore();
        const flaky = asyncCompute(conformanceTasks.flaky, {
          store,
          backend,
          retry: { attempts: 2, backoff: 'fixed', delay: 20 },
        });
        const handle = await flaky({ succeedOn: 4 });
        await expect(handle.result({ timeout: 10_000 * scale })).rejects.toThrow(
          'attempt 2 fails on purpose',
        );
        const failed = await handle.record();
        expect(failed.status).toBe('failed');
        // The automatic retry of attempt 1 is in the history; attempt 2 is the record's own ending.
        expect(failed.history?.map((item) => [item.attempt, item.status, item.error?.message])).toEqual([
          [1, 'failed', 'attempt 1 fails on purpose'],
        ]);

        const reopened = await handle.retry();
        expect(reopened).toMatchObject({ key: handle.key, status: 'pending', attempt: 2, maxAttempts: 4 });
        expect(reopened.error).toBeUndefined();
        expect(reopened.finishedAt).toBeUndefined();
        expect(reopened.history?.[1]).toMatchObject({
          attempt: 2,
          status: 'failed',
          error: { message: 'attempt 2 fails on purpose' },
          startedAt: failed.startedAt,
          finishedAt: failed.finishedAt,
        });
        expect(await handle.result({ timeout: 10_000 * scale })).toEqual({ attempt: 4 });
        const completed = await handle.record();
        expect(completed.status).toBe('completed');
        expect(completed.error).toBeUndefined();
        expect(completed.history?.map((item) => item.attempt)).toEqual([1, 2, 3]);
      },
      { timeout: 30_000 * scale },
    );

    test(
      'retry-refused',
      'should refuse to retry a running, completed or unknown computation and change nothing',
      async () => {
        const backend = await suite.getBackend();
        const store = suite.getStore();
        const sleep = asyncCompute(conformanceTasks.sleep, { store, backend });
        const running = await sleep({ ms: 30_000 });
        await suite.waitForStatus(running.key, ['running']);
        const before = await running.record();
        const error = await running.retry().catch((caught: unknown) => caught);
        expect(RetryNotAllowedError.isInstance(error)).toBe(true);
        expect((error as RetryNotAllowedError).status).toBe('running');
        expect((error as Error).message).toContain('cancel it');
        expect((await running.record()).status).toBe('running');
        expect((await running.record()).startedAt).toBe(before.startedAt);
        await running.cancel();

        const add = asyncCompute(conformanceTasks.add, { store, backend });
        const done = await add({ a: 1, b: 2 });
        expect(await done.result({ timeout: 10_000 * scale })).toBe(3);
        const completed = await done.record();
        await expect(done.retry()).rejects.toSatisfy(RetryNotAllowedError.isInstance);
        await expect(add.retry(done.key)).rejects.toThrow('launch it again under a new key');
        expect(await done.record()).toEqual(completed);

        await expect(add.retry(uniqueId('never'))).rejects.toSatisfy(ComputationNotFoundError.isInstance);
        // Another task's computation is not this task's to retry.
        await expect(sleep.retry(done.key)).rejects.toThrow(TypeError);
      },
      { timeout: 30_000 * scale, when: background },
    );

    test(
      'retry-cancelled',
      'should retry a computation cancelled before it started, which then runs',
      async () => {
        const backend = await suite.getBackend();
        const store = suite.getStore();
        const add = asyncCompute(conformanceTasks.add, { store, backend });
        const handle = await add.launch([{ a: 20, b: 22 }], { delay: 60_000 });
        expect(await handle.cancel('later')).toBe(true);
        const reopened = await handle.retry();
        expect(reopened.status).toBe('pending');
        expect(reopened.runAt).toBeUndefined();
        expect(reopened.history).toEqual([
          expect.objectContaining({
            attempt: 0,
            status: 'cancelled',
            error: expect.objectContaining({ reason: 'later' }),
          }),
        ]);
        expect(await handle.result({ timeout: 10_000 * scale })).toBe(42);
      },
      { timeout: 30_000 * scale, when: background },
    );

    test(
      'retry-cancelled-running',
      'should retry a computation at once after cancelling it while it ran',
      async () => {
        const backend = await suite.getBackend();
        const store = suite.getStore();
        const slowFirst = asyncCompute(conformanceTasks.slowFirst, { store, backend });
        const handle = await slowFirst({ ms: 30_000 });
        await suite.waitForStatus(handle.key, ['running']);
        expect(await handle.cancel('restart it')).toBe(true);
        const reopened = await handle.retry();
        expect(reopened.history?.[0]).toMatchObject({ attempt: 1, status: 'cancelled' });
        expect(await handle.result({ timeout: 10_000 * scale })).toEqual({ attempt: 2 });
      },
      { timeout: 30_000 * scale, when: background },
    );

    test(
      'retry-queue-full',
      "should refuse a retry past its task's maxQueued, changing nothing, and take it once there is room",
      async () => {
        const backend = await suite.getBackend();
        // The conformance fail task under its own name (workers run it by name), bounded to one.
        const bounded = defineTask({ ...conformanceTasks.fail, maxQueued: 1 });
        const failed = await suite.launch(backend, bounded, { message: 'no good' });
        await suite.waitForStatus(failed.key, ['failed']);
        const before = await failed.record();
        const waiting = await suite.launch(backend, bounded, { message: 'later' }, { delay: LATER });
        const refusal = await failed.retry().catch((error: unknown) => error);
        expect(QueueFullError.isInstance(refusal)).toBe(true);
        expect(refusal).toMatchObject({ scope: 'task', limit: 1 });
        expect(await failed.record()).toEqual(before);
        await waiting.cancel();
        expect((await failed.retry()).status).toBe('pending');
        await suite.waitForStatus(failed.key, ['failed']);
        expect((await failed.record()).history?.map((item) => item.attempt)).toEqual([1]);
      },
      { timeout: 30_000 * scale, when: background },
    );

    test(
      'retry-depends-on',
      'should hold a retried dependent until its retried parent completed',
      async () => {
        const backend = await suite.getBackend();
        const parent = await suite.launch(backend, conformanceTasks.sleep, { ms: 600 });
        const child = await suite.launch(backend, conformanceTasks.echo, 'child', {
          dependsOn: [parent.key],
        });
        await parent.cancel();
        expect(await suite.waitForStatus(child.key, ENDED)).toBe('cancelled');
        await parent.retry();
        expect((await child.retry()).status).toBe('pending');
        expect(await child.result({ timeout: 10_000 * scale })).toBe('child');
        const [parentRecord, childRecord] = await Promise.all([parent.record(), child.record()]);
        expect(parentRecord.status).toBe('completed');
        expect(childRecord.startedAt).toBeGreaterThanOrEqual(parentRecord.finishedAt!);
      },
      { timeout: 30_000 * scale, when: background },
    );

    test(
      'redrive-depends-on',
      'should redrive a failed parent before its dependent, which then runs after it',
      async () => {
        const backend = await suite.getBackend();
        const tag = uniqueId('chain');
        const flaky = asyncCompute(conformanceTasks.flaky, { store: suite.getStore(), backend });
        // The parent fails its first attempt; the child (never run) succeeds on its first.
        const parent = await flaky.launch([{ succeedOn: 2 }], { tags: [tag] });
        const child = await flaky.launch([{ succeedOn: 1 }], { dependsOn: [parent.key], tags: [tag] });
        expect(await suite.waitForStatus(child.key, ENDED)).toBe('failed');
        expect((await child.record()).error?.name).toBe('DependencyFailedError');
        const result = await flaky.redrive({ tag });
        expect(result.errors).toEqual([]);
        expect(new Set(result.keys)).toEqual(new Set([parent.key, child.key]));
        expect(await child.result({ timeout: 10_000 * scale })).toEqual({ attempt: 1 });
        const [parentRecord, childRecord] = await Promise.all([parent.record(), child.record()]);
        expect(parentRecord.status).toBe('completed');
        expect(childRecord.startedAt).toBeGreaterThanOrEqual(parentRecord.finishedAt!);
      },
      { timeout: 30_000 * scale },
    );

    test(
      'redrive',
      'should list, count and redrive dead letters by tag, and refuse a redrive that matches nothing',
      async () => {
        const backend = await suite.getBackend();
        const store = suite.getStore();
        const tag = uniqueId('dead');
        const flaky = asyncCompute(conformanceTasks.flaky, { store, backend });
        const handles = await Promise.all(
          [1, 2, 3].map(() => flaky.launch([{ succeedOn: 2 }], { tags: [tag] })),
        );
        await Promise.all(handles.map((handle) => suite.waitForStatus(handle.key, ENDED)));
        expect(await countDeadLetters(store, { tag })).toBe(3);
        const listed = await listDeadLetters(store, { tag, limit: 2 });
        expect(listed.records).toHaveLength(2);
        expect(listed.cursor).toBeDefined();

        await expect(flaky.redrive({ tag, status: 'completed' as never })).rejects.toThrow(TypeError);
        await expect(flaky.redrive({ tag, since: Date.now() + 60_000 })).rejects.toSatisfy(
          NothingToRedriveError.isInstance,
        );
        expect(await countDeadLetters(store, { tag })).toBe(3);

        const result = await flaky.redrive({ tag });
        expect(result.count).toBe(3);
        expect(new Set(result.keys)).toEqual(new Set(handles.map((handle) => handle.key)));
        expect(result.errors).toEqual([]);
        for (const handle of handles)
          expect(await handle.result({ timeout: 10_000 * scale })).toEqual({ attempt: 2 });
        expect(await countDeadLetters(store, { tag })).toBe(0);
        await expect(flaky.redrive({ tag })).rejects.toSatisfy(NothingToRedriveError.isInstance);
      },
      { timeout: 30_000 * scale },
    );

    test(
      'dead-letter-hook',
      'should call onDeadLetter once where the task runs when retries are spent, and purge dead letters',
      async () => {
        const backend = await suite.getBackend();
        const store = suite.getStore();
        const tag = uniqueId('hook');
        const seen: string[] = [];
        const fail = asyncCompute(conformanceTasks.fail, {
          store,
          backend,
          onDeadLetter: (record) => {
            seen.push(`${record.key} ${record.status} ${record.error?.message}`);
          },
        });
        const handle = await fail.launch([{ message: 'no good' }], { tags: [tag] });
        await waitUntil(() => seen.length > 0, { timeout: 10_000 * scale, message: 'the dead-letter hook' });
        expect(seen).toEqual([`${handle.key} failed no good`]);
        expect(await purgeDeadLetters(store, { tag, before: Date.now() - 60_000 })).toBe(0);
        expect(await purgeDeadLetters(store, { tag })).toBe(1);
        expect(await store.get(handle.key)).toBeUndefined();
        expect(await countDeadLetters(store, { tag })).toBe(0);
      },
      { timeout: 30_000 * scale, when: suite.deadLetterHook },
    );
  });
}
