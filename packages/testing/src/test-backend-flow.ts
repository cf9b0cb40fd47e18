import { defineTask, QueueFullError, UnknownDependencyError } from '@au/core';
import { describe, expect } from 'vitest';
import { conformanceTasks } from './conformance-tasks';
import type { BackendSuite } from './internal/backend-suite';
import { uniqueId } from './internal/unique';

/** Far enough ahead that a delayed computation waits for the whole test. */
const LATER = 60_000;

/**
 * The flow-control cases of `testBackend`: bounded queues (`maxQueued` of a task and of
 * the backend) and dependencies at launch (`dependsOn`). Declared inside the suite's
 * `describe`.
 */
export function testBackendFlow(suite: BackendSuite): void {
  const { test, scale, background } = suite;

  describe('when a queue is bounded', () => {
    test(
      'task-max-queued',
      "should refuse a launch past the task's maxQueued at once, writing nothing",
      async () => {
        const backend = await suite.getBackend();
        // The conformance echo under its own name (workers run it by name), bounded to two.
        const bounded = defineTask({ ...conformanceTasks.echo, maxQueued: 2 });
        // Delayed computations wait in the queue whatever the backend's concurrency.
        const first = await suite.launch(backend, bounded, 'first', { delay: LATER });
        // One that starts leaves the queue: it does not count.
        const ran = await suite.launch(backend, bounded, 'ran');
        expect(await ran.result({ timeout: 10_000 * scale })).toBe('ran');
        const second = await suite.launch(backend, bounded, 'second', { delay: LATER });
        const key = uniqueId('refused');
        const refusal = await suite.launch(backend, bounded, 'third', { key, delay: LATER }).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(QueueFullError.isInstance(refusal)).toBe(true);
        expect((refusal as QueueFullError).message).toMatch(/queue of task "au-conformance\.echo" is full/);
        expect(refusal).toMatchObject({ scope: 'task', limit: 2, queued: 2 });
        expect(await suite.getStore().get(key)).toBeUndefined();
        // A cancel frees its place.
        expect(await first.cancel()).toBe(true);
        const third = await suite.launch(backend, bounded, 'third', { key, delay: LATER });
        expect(await third.status()).toBe('pending');
        await Promise.all([second.cancel(), third.cancel()]);
      },
      { when: background, timeout: 30_000 * scale },
    );

    test(
      'backend-max-queued',
      "should refuse a launch past the backend's maxQueued, of any task",
      async () => {
        const backend = await suite.getBackend({ maxQueued: 1 });
        expect(backend.maxQueued).toBe(1);
        const waiting = await suite.launch(backend, conformanceTasks.echo, 'waiting', { delay: LATER });
        const key = uniqueId('refused');
        await expect(
          suite.launch(backend, conformanceTasks.add, { a: 1, b: 2 }, { key, delay: LATER }),
        ).rejects.toThrow(/queue of backend .* is full \(1 waiting, maxQueued 1\)/);
        expect(await suite.getStore().get(key)).toBeUndefined();
        await waiting.cancel();
      },
      { when: background, timeout: 30_000 * scale },
    );
  });

  describe('when a launch depends on other computations', () => {
    test(
      'depends-on-completed',
      'should run a dependent at once when its parent completed, and after it otherwise',
      async () => {
        const backend = await suite.getBackend();
        const done = await suite.launch(backend, conformanceTasks.add, { a: 1, b: 1 });
        expect(await done.result({ timeout: 10_000 * scale })).toBe(2);
        const now = await suite.launch(backend, conformanceTasks.echo, 'now', { dependsOn: [done.key] });
        expect(await now.result({ timeout: 10_000 * scale })).toBe('now');
        if (!background) return;
        const parent = await suite.launch(backend, conformanceTasks.sleep, { ms: 300 });
        const child = await suite.launch(backend, conformanceTasks.echo, 'after', {
          dependsOn: [parent.key, done.key],
        });
        const waiting = await child.record();
        expect(waiting.meta?.dependsOn).toEqual([parent.key, done.key]);
        expect(await child.result({ timeout: 10_000 * scale })).toBe('after');
        const [parentRecord, childRecord] = await Promise.all([parent.record(), child.record()]);
        expect(parentRecord.status).toBe('completed');
        expect(childRecord.startedAt).toBeGreaterThanOrEqual(parentRecord.finishedAt!);
      },
      { timeout: 30_000 * scale },
    );

    test(
      'depends-on-failed',
      'should end the dependents of a failed parent failed, cascading, with the reason',
      async () => {
        const backend = await suite.getBackend();
        // Fails with TimeoutError after 200 ms: the dependents are held until then.
        const parent = await suite.launch(backend, conformanceTasks.timeout, { ms: 5000 });
        const child = await suite.launch(backend, conformanceTasks.echo, 'child', {
          dependsOn: [parent.key],
        });
        const grandchild = await suite.launch(backend, conformanceTasks.echo, 'grandchild', {
          dependsOn: [child.key],
        });
        await suite.waitForStatus(grandchild.key, ['failed', 'cancelled', 'completed']);
        const [childRecord, grandchildRecord] = await Promise.all([child.record(), grandchild.record()]);
        expect(childRecord.status).toBe('failed');
        expect(childRecord.attempt).toBe(0);
        expect(childRecord.error?.name).toBe('DependencyFailedError');
        expect(childRecord.error?.message).toContain(`its parent "${parent.key}" failed (TimeoutError`);
        expect(grandchildRecord.status).toBe('failed');
        expect(grandchildRecord.error?.message).toContain(`its parent "${child.key}" failed`);
        // Launched after the parent failed: ended at once.
        const late = await suite.launch(backend, conformanceTasks.echo, 'late', { dependsOn: [parent.key] });
        expect(await suite.waitForStatus(late.key, ['failed', 'completed'])).toBe('failed');
      },
      { timeout: 30_000 * scale },
    );

    test(
      'depends-on-cancelled',
      'should end the dependents of a cancelled parent cancelled, naming it',
      async () => {
        const backend = await suite.getBackend();
        const parent = await suite.launch(backend, conformanceTasks.sleep, { ms: 20_000 });
        const child = await suite.launch(backend, conformanceTasks.echo, 'child', {
          dependsOn: [parent.key],
        });
        expect(await child.status()).toBe('pending');
        await parent.cancel();
        expect(await suite.waitForStatus(child.key, ['cancelled', 'failed', 'completed'])).toBe('cancelled');
        expect((await child.record()).error?.message).toContain(`its parent "${parent.key}" was cancelled`);
      },
      { when: background, timeout: 30_000 * scale },
    );

    test('depends-on-unknown', 'should refuse an unknown parent at launch, writing nothing', async () => {
      const backend = await suite.getBackend();
      const key = uniqueId('orphan');
      const missing = uniqueId('missing');
      const refusal = await suite
        .launch(backend, conformanceTasks.echo, 'orphan', { key, dependsOn: [missing] })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(UnknownDependencyError.isInstance(refusal)).toBe(true);
      expect((refusal as Error).message).toContain(`dependsOn names "${missing}"`);
      expect(await suite.getStore().get(key)).toBeUndefined();
    });
  });
}
