import {
  type AsyncComputeOptions,
  type ComputationBackend,
  type ComputationHandle,
  type ComputationStore,
  KeyConflictError,
  type LaunchOptions,
  type TaskDefinition,
} from '@au/core';
import { describe, expect } from 'vitest';
import { conformanceTasks } from '../conformance-tasks';
import type { CaseDeclarer } from './case';
import { traceFile } from './trace-file';
import { uniqueId } from './unique';
import { delay, waitUntil } from './wait-until';

/** What the idempotency cases need from `testBackend`. */
export interface IdempotencyCaseContext {
  test: CaseDeclarer;
  scale: number;
  getStore(): ComputationStore;
  getBackend(concurrency?: number): Promise<ComputationBackend>;
  launch<Input, Result>(
    backend: ComputationBackend,
    task: TaskDefinition<Input, Result>,
    input: Input,
    options?: AsyncComputeOptions & LaunchOptions,
  ): Promise<ComputationHandle<Result>>;
}

/** Caller-given keys: one computation per key and input, refused for another input, free again after the window. */
export function idempotencyCases({
  test,
  scale,
  getStore,
  getBackend,
  launch,
}: IdempotencyCaseContext): void {
  describe('when launched with a key', () => {
    test('key-join', 'should join, not rerun, concurrent launches with one key and one input', async () => {
      const backend = await getBackend();
      const trace = traceFile();
      try {
        const key = uniqueId('join');
        const input = { file: trace.path, ms: 100, value: { n: 1 } };
        const handles = await Promise.all(
          Array.from({ length: 4 }, () => launch(backend, conformanceTasks.trace, input, { key })),
        );
        for (const handle of handles) expect(handle.key).toBe(key);
        expect(await handles[0]!.result({ timeout: 10_000 * scale })).toEqual({ n: 1 });
        // Another launch once it finished joins too: the same result, no new run.
        const later = await launch(backend, conformanceTasks.trace, { ...input }, { key });
        expect(await later.result({ timeout: 10_000 * scale })).toEqual({ n: 1 });
        expect(trace.runs()).toBe(1);
      } finally {
        trace.remove();
      }
    });

    test(
      'key-conflict',
      'should refuse with KeyConflictError a key held by another input or task, changing nothing',
      async () => {
        const backend = await getBackend();
        const key = uniqueId('conflict');
        const first = await launch(backend, conformanceTasks.add, { a: 1, b: 2 }, { key });
        expect(await first.result({ timeout: 10_000 * scale })).toBe(3);
        const before = await getStore().get(key);
        // Key order does not make another input.
        await launch(backend, conformanceTasks.add, { b: 2, a: 1 }, { key });
        const otherInput = await launch(backend, conformanceTasks.add, { a: 1, b: 3 }, { key }).catch(
          (error: unknown) => error,
        );
        expect(KeyConflictError.isInstance(otherInput)).toBe(true);
        expect((otherInput as KeyConflictError).code).toBe('AU_KEY_CONFLICT');
        expect((otherInput as KeyConflictError).message).toContain(key);
        const otherTask = await launch(backend, conformanceTasks.echo, { a: 1, b: 2 }, { key }).catch(
          (error: unknown) => error,
        );
        expect(KeyConflictError.isInstance(otherTask)).toBe(true);
        expect((otherTask as KeyConflictError).existingTask).toBe(conformanceTasks.add.name);
        expect(await getStore().get(key)).toEqual(before);
      },
    );

    test(
      'key-window',
      'should run a finished key again past its idempotency window, once however many launch at once',
      async () => {
        const backend = await getBackend();
        const trace = traceFile();
        try {
          const key = uniqueId('window');
          const window = 0.2;
          const first = await launch(
            backend,
            conformanceTasks.trace,
            { file: trace.path, value: 'first' },
            { key, idempotencyWindow: window },
          );
          expect(await first.result({ timeout: 10_000 * scale })).toBe('first');
          // Within the window another input is still a conflict.
          const early = await launch(
            backend,
            conformanceTasks.trace,
            { file: trace.path, value: 'second' },
            { key, idempotencyWindow: 60 },
          ).catch((error: unknown) => error);
          expect(KeyConflictError.isInstance(early)).toBe(true);
          await delay(window * 1000 + 50);
          const input = { file: trace.path, ms: 200, value: 'second' };
          const handles = await Promise.all(
            Array.from({ length: 4 }, () =>
              launch(backend, conformanceTasks.trace, input, { key, idempotencyWindow: window }),
            ),
          );
          for (const handle of handles) expect(handle.key).toBe(key);
          expect(await handles[0]!.result({ timeout: 10_000 * scale })).toBe('second');
          await waitUntil(() => trace.runs() >= 2 || undefined, {
            timeout: 5000 * scale,
            message: 'the second run to be traced',
          });
          expect(trace.runs()).toBe(2);
          expect((await getStore().get(key))?.attempt).toBe(1);
          // Right after it ends, with no window: the engine may still hold the old run's job.
          const third = await launch(
            backend,
            conformanceTasks.trace,
            { file: trace.path, value: 'third' },
            { key, idempotencyWindow: 0 },
          );
          expect(await third.result({ timeout: 10_000 * scale })).toBe('third');
          expect(trace.runs()).toBe(3);
        } finally {
          trace.remove();
        }
      },
      { timeout: 30_000 * scale },
    );
  });
}
