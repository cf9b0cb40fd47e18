import { type ComputationBackend, type ComputationStore, TaskNotFoundError } from '@au/core';
import { describe, expect, onTestFinished } from 'vitest';
import { conformanceTasks } from './conformance-tasks';
import { flakyBackend } from './flaky-backend';
import type { BackendSuite } from './internal/backend-suite';
import { type TraceFile, traceFile } from './internal/trace-file';
import { uniqueId } from './internal/unique';
import { unknownTask } from './internal/unknown-task';
import { delay, waitUntil } from './internal/wait-until';
import { type OutageStore, outageStore, type StoreOutageControl } from './outage-store';

/** The statuses a computation ends in. */
const ENDED = ['completed', 'failed', 'cancelled'] as const;

/** Why an outage may not have bitten. */
const OUTAGE_HINT =
  " (workers that reach the store other than through the factory's `store` need `flags.outage`)";

/**
 * The failure-path cases of `testBackend`: a task the worker lacks, a refused launch, a
 * record deleted before its work starts (nothing written; the backend says so in its
 * log), a store outage around the claim and around the result. Declared inside the
 * suite's `describe`.
 */
export function testBackendFailures(suite: BackendSuite): void {
  const { test, scale, background } = suite;

  describe('when a computation cannot start', () => {
    test(
      'worker-unknown-task',
      'should end a task its worker does not have failed with TaskNotFoundError',
      async (context) => {
        const backend = await suite.getBackend();
        const key = uniqueId('worker-unknown');
        // Local backends may refuse it at launch; queue backends accept it and their worker fails it.
        const refusal = await suite.launch(backend, unknownTask, undefined, { key }).then(
          () => undefined,
          (error: unknown) => ({ error }),
        );
        if (refusal !== undefined) {
          expect(
            TaskNotFoundError.isInstance(refusal.error),
            `the launch was refused with ${String(refusal.error)}`,
          ).toBe(true);
        }
        const status = await suite.waitForStatus(key, ENDED, 5000);
        if (status === 'completed' && backend.capabilities.inlineFunctions) {
          context.skip(`${backend.name} runs inline functions: it ran the definition it was handed`);
        }
        const record = await suite.getStore().get(key);
        expect(record?.status).toBe('failed');
        expect(record?.error?.name).toBe('TaskNotFoundError');
        expect(record?.error?.message).toContain(unknownTask.name);
      },
      { timeout: 20_000 * scale },
    );

    test(
      'launch-refused',
      'should reject a refused launch with its error and record it failed',
      async () => {
        const backend = await suite.getBackend();
        const message = '[au] [testing] the backend refused this launch on purpose';
        const refusal = Object.assign(new Error(message), { code: 'E_REFUSED' });
        // A backend that writes the record with its queue entry refuses there first.
        const refusing = flakyBackend(backend, [
          { method: 'createAndLaunch', on: 1, error: refusal },
          { method: 'launch', on: 1, error: refusal },
        ]);
        const key = uniqueId('refused');
        const error = await suite
          .launch(refusing, conformanceTasks.echo, 'refused', { key })
          .catch((caught: unknown) => caught);
        expect(error).toBe(refusal);
        const record = await suite.getStore().get(key);
        expect(record?.status).toBe('failed');
        expect(record?.error).toMatchObject({ name: 'Error', message, code: 'E_REFUSED' });
        expect(record?.attempt).toBe(0);
        // Only that launch was refused: the next one runs.
        const next = await suite.launch(refusing, conformanceTasks.echo, 'next');
        expect(await next.result({ timeout: 10_000 * scale })).toBe('next');
        expect((await suite.getStore().get(key))?.status).toBe('failed');
      },
      { timeout: 20_000 * scale },
    );

    test(
      'record-missing',
      'should write nothing and keep working when the record is gone before the work starts',
      async () => {
        const backend = await suite.getBackend();
        const store = suite.getStore();
        const { key, trace } = await launchThenDelete(suite, backend);
        expect(await store.get(key), 'nothing should write the deleted record back').toBeUndefined();
        const next = await suite.launch(backend, conformanceTasks.echo, 'still serving');
        expect(await next.result({ timeout: 10_000 * scale })).toBe('still serving');
        expect(await store.get(key)).toBeUndefined();
        expect(trace.runs(), 'the task of a deleted record should not run').toBe(0);
      },
      { timeout: 30_000 * scale, when: background },
    );

    test(
      'record-missing-logged',
      'should log a warn or info line naming the key of a record gone before its work starts',
      async () => {
        const backend = await suite.getBackend();
        const { key } = await launchThenDelete(suite, backend);
        await waitUntil(() => suite.getLog().mentioning(key, ['info', 'warn']).length > 0, {
          timeout: 5000 * scale,
          message: `${backend.name} to log a warn or info line naming "${key}" (the factory's \`logger\`)`,
        });
      },
      { timeout: 30_000 * scale, when: background },
    );
  });

  describe('when the store is unreachable for a while', () => {
    test(
      'store-outage-claim',
      'should claim once the store is back and complete exactly once',
      async () => {
        const { wrapper, outage } = outageFor(suite);
        const backend = await suite.getBackend({ store: wrapper });
        const trace = newTrace();
        // The record is written before the outage; the claim, due 300 ms later, falls in it.
        const handle = await suite.launch(
          backend,
          conformanceTasks.trace,
          { file: trace.path, value: 'claimed' },
          { store: wrapper, delay: 300 * scale },
        );
        await during(outage, async () => {
          expect(
            await statusIn(suite.getStore(), handle.key),
            'the outage should begin before the claim',
          ).toBe('pending');
          await delay(1000 * scale);
          expect(
            await statusIn(suite.getStore(), handle.key),
            `nothing can be claimed while the store is down${OUTAGE_HINT}`,
          ).toBe('pending');
        });
        await suite.waitForStatus(handle.key, ENDED, 15_000);
        if (outage === wrapper)
          expect(failuresOf(wrapper), 'the outage should have failed calls').toBeGreaterThan(0);
        await expectRanOnce(suite, handle.key, trace, 'claimed');
        expect(await handle.result({ timeout: 1000 * scale })).toBe('claimed');
      },
      { timeout: 40_000 * scale, when: background },
    );

    test(
      'store-outage-result',
      'should write the result once the store is back, the task run once',
      async () => {
        const { wrapper, outage } = outageFor(suite);
        const backend = await suite.getBackend({ store: wrapper });
        const trace = newTrace();
        const value = { answer: 42, list: ['a', 'b'] };
        const key = uniqueId('outage-result');
        // Not awaited yet: a backend without background work (SyncTestBackend) resolves the
        // launch only once the result is written, after the outage.
        const launching = suite.launch(
          backend,
          conformanceTasks.trace,
          { file: trace.path, ms: 500, value },
          { key, store: wrapper },
        );
        let refused: { error: unknown } | undefined;
        launching.catch((error: unknown) => {
          refused = { error };
        });
        // The task has started (its trace is written) and its record says so: the outage
        // begins while it runs and lasts ~1 s past its end, so its result meets an
        // unreachable store. (A queue may write the claim a round trip after the task
        // began, with its next batch: see docs/lifecycle.md.)
        await waitUntil(
          async () => {
            if (refused !== undefined) throw refused.error;
            return trace.runs() > 0 && (await statusIn(suite.getStore(), key)) === 'running';
          },
          { timeout: 15_000 * scale, message: 'the task to start and its record to say running' },
        );
        await during(outage, async () => {
          await delay(500 + 1000 * scale);
          expect(
            await statusIn(suite.getStore(), key),
            `the result cannot be written while the store is down${OUTAGE_HINT}`,
          ).toBe('running');
        });
        const handle = await launching;
        await suite.waitForStatus(key, ENDED, 15_000);
        if (outage === wrapper)
          expect(failuresOf(wrapper), 'the outage should have failed calls').toBeGreaterThan(0);
        await expectRanOnce(suite, key, trace, value);
        expect(await handle.result({ timeout: 1000 * scale })).toEqual(value);
      },
      { timeout: 40_000 * scale },
    );
  });
}

// ---- private helpers --------------------------------------------------------------

/**
 * Launches a traced task with a 300 ms (scaled) delay, deletes its record at once, and
 * waits until the work was due and a second more.
 */
async function launchThenDelete(
  suite: BackendSuite,
  backend: ComputationBackend,
): Promise<{ key: string; trace: TraceFile }> {
  const trace = newTrace();
  const key = uniqueId('missing');
  const wait = 300 * suite.scale;
  const launchedAt = Date.now();
  await suite.launch(backend, conformanceTasks.trace, { file: trace.path }, { key, delay: wait });
  expect(await suite.getStore().delete(key)).toBe(true);
  await delay(launchedAt + wait + 1000 * suite.scale - Date.now());
  return { key, trace };
}

/** A trace file removed when the test ends. */
function newTrace(): TraceFile {
  const trace = traceFile();
  onTestFinished(() => trace.remove());
  return trace;
}

/**
 * The wrapper the backend and the launch use, and the outage to drive: the test file's
 * (`flags.outage`, for workers in another process) or else the wrapper's own.
 */
function outageFor(suite: BackendSuite): { wrapper: OutageStore; outage: StoreOutageControl } {
  const wrapper = outageStore(suite.getStore());
  return { wrapper, outage: suite.outage ?? wrapper };
}

/** Runs `body` during an outage, which ends even when `body` fails. */
async function during(outage: StoreOutageControl, body: () => Promise<void>): Promise<void> {
  await outage.begin();
  try {
    await body();
  } finally {
    await outage.end();
  }
}

async function statusIn(store: ComputationStore, key: string) {
  return (await store.get(key))?.status;
}

function failuresOf(wrapper: OutageStore): number {
  return Object.values(wrapper.failures).reduce((sum, count) => sum + (count ?? 0), 0);
}

/** The computation completed with `value` after one attempt, and no second run shows up. */
async function expectRanOnce(suite: BackendSuite, key: string, trace: TraceFile, value: unknown) {
  const record = await suite.getStore().get(key);
  expect(record?.status).toBe('completed');
  expect(record?.value).toEqual(value);
  expect(record?.attempt).toBe(1);
  // A duplicate run (a re-delivery, a reclaim) would show up shortly after.
  await delay(500 * suite.scale);
  expect(trace.runs(), 'the task should have run exactly once').toBe(1);
  expect((await suite.getStore().get(key))?.status).toBe('completed');
}
