import {
  asyncCompute,
  CancelledError,
  type ComputationBackend,
  ComputationFailedError,
  MemoryStore,
} from '@au/core';
import { afterEach, describe, expect, it } from 'vitest';
import { quickTask } from './conformance-tasks';

/** A pool backend that sends attempts of short tasks in batches (ThreadsBackend, ProcessBackend). */
export interface BatchingBackend extends ComputationBackend {
  /** Attempts sent in batches so far. */
  readonly batchedCount: number;
}

export interface BatchingBackendOptions {
  /** Attempts in one batch at most (1: none). */
  maxBatch: number;
  /** Ms between the cooperative abort and the forced stop. */
  cancelGracePeriod: number;
}

/**
 * The cases every pool backend that batches short tasks passes. `makeBackend` builds one
 * with 2 workers that loads `conformanceTasksUrl`.
 */
export function testShortTaskBatches(
  name: string,
  makeBackend: (options: BatchingBackendOptions) => BatchingBackend,
): void {
  describe(`testShortTaskBatches(${name})`, () => {
    const opened: BatchingBackend[] = [];
    const open = (options: Partial<BatchingBackendOptions> = {}) => {
      const backend = makeBackend({ maxBatch: 8, cancelGracePeriod: 50, ...options });
      opened.push(backend);
      return { backend, quick: asyncCompute(quickTask, { store: new MemoryStore(), backend }) };
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((backend) => backend.close({ timeout: 2000 })));
    });
    /** Runs the task alone until the backend has measured it as short. */
    const warmUp = async (quick: ReturnType<typeof open>['quick']) => {
      for (let n = 0; n < 12; n++) expect(await (await quick(n)).result({ timeout: 10_000 })).toBe(n + 1);
    };
    /** Launches `quick` for each input and settles every result. */
    const runAll = async (quick: ReturnType<typeof open>['quick'], inputs: number[]) => {
      const handles = await quick.map(inputs.map((n) => [n] as [number]));
      return {
        handles,
        results: await Promise.allSettled(handles.map((handle) => handle.result({ timeout: 20_000 }))),
      };
    };

    it('should batch a task once it is known to be short, every result right', async () => {
      const { backend, quick } = open();
      await warmUp(quick);
      const before = backend.batchedCount;
      const inputs = Array.from({ length: 400 }, (_, n) => n);
      const { results } = await runAll(quick, inputs);
      expect(results).toEqual(inputs.map((n) => ({ status: 'fulfilled', value: n + 1 })));
      // Most of them traveled in batches (some may go alone while too few wait).
      expect(backend.batchedCount - before).toBeGreaterThan(200);
    }, 60_000);

    it('should send every attempt alone with maxBatch 1', async () => {
      const { backend, quick } = open({ maxBatch: 1 });
      await warmUp(quick);
      const { results } = await runAll(
        quick,
        Array.from({ length: 100 }, (_, n) => n),
      );
      expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
      expect(backend.batchedCount).toBe(0);
    }, 60_000);

    it('should stop a batched attempt that spins, run the rest and keep serving', async () => {
      const { backend, quick } = open();
      await warmUp(quick);
      const inputs = Array.from({ length: 60 }, (_, n) => (n === 30 ? -1 : n));
      const handles = await quick.map(inputs.map((n) => [n] as [number]));
      const spinning = handles[30]!;
      while ((await spinning.progress()) !== 'spinning')
        await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await spinning.cancel('spins forever')).toBe(true);
      const results = await Promise.allSettled(handles.map((handle) => handle.result({ timeout: 20_000 })));
      results.forEach((result, index) => {
        if (index === 30)
          expect(CancelledError.isInstance((result as PromiseRejectedResult).reason)).toBe(true);
        else expect(result).toEqual({ status: 'fulfilled', value: inputs[index]! + 1 });
      });
      expect(backend.batchedCount).toBeGreaterThan(0);
      expect(await (await quick(7)).result({ timeout: 10_000 })).toBe(8);
    }, 60_000);

    it('should fail only the attempt that crashed its worker, and run the rest', async () => {
      const { backend, quick } = open();
      await warmUp(quick);
      const inputs = Array.from({ length: 60 }, (_, n) => (n === 30 ? -2 : n));
      const { results } = await runAll(quick, inputs);
      results.forEach((result, index) => {
        if (index !== 30) expect(result).toEqual({ status: 'fulfilled', value: inputs[index]! + 1 });
      });
      const crashed = (results[30] as PromiseRejectedResult).reason as Error;
      expect(ComputationFailedError.isInstance(crashed)).toBe(true);
      expect(crashed.message).toMatch(/crashed/);
      expect(backend.batchedCount).toBeGreaterThan(0);
    }, 60_000);
  });
}
