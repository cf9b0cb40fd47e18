import { defineTask, QueueFullError } from '@au/core';
import { describe, expect } from 'vitest';
import { conformanceTasks } from './conformance-tasks';
import type { BackendSuite } from './internal/backend-suite';
import { uniqueId } from './internal/unique';

/** Far enough ahead that a delayed computation waits for the whole test. */
const LATER = 60_000;

/**
 * The flow-control cases of `testBackend`: bounded queues (`maxQueued` of a task and of
 * the backend). Declared inside the suite's `describe`.
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
}
