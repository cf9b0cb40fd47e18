import { jsonCodec, KeyExistsError } from '@au/core';
import { describe, expect } from 'vitest';
import { conformanceTasks } from '../conformance-tasks';
import { preparedLaunch } from '../prepared-launch';
import type { BackendSuite } from './backend-suite';
import { uniqueId } from './unique';
import { delay } from './wait-until';

/**
 * The cases of `ComputationBackend.createAndLaunch` (records and queue entries in one
 * write), for a backend that offers it: all or nothing, and `false` only with nothing
 * written. Core calls it with records and invocations it prepared; these cases prepare
 * them the same way, for the conformance `echo` task. Declared inside the suite's `describe`.
 */
export function createAndLaunchCases(suite: BackendSuite): void {
  const { test, scale, background } = suite;

  /** The record and invocation core would prepare for a launch of `echo` with `input`. */
  const echoLaunch = (key: string, input: string) => preparedLaunch(conformanceTasks.echo, input, key);

  /**
   * A backend with `createAndLaunch` (else the case is skipped), after one launch through
   * core, which binds it to the store and registers the task: `holder` holds its key.
   */
  const offering = async (context: { skip(note?: string): never }) => {
    const backend = await suite.getBackend();
    if (backend.createAndLaunch === undefined) context.skip(`${backend.name} has no createAndLaunch`);
    const holder = await suite.launch(backend, conformanceTasks.echo, 'holder');
    expect(await holder.result({ timeout: 10_000 * scale })).toBe('holder');
    return { backend, holder };
  };

  describe('when records are created and launched in one write (createAndLaunch)', () => {
    test(
      'create-and-launch',
      'should create every record and run it, or answer false having written nothing',
      async (context) => {
        const { backend } = await offering(context);
        const store = suite.getStore();
        const launches = [echoLaunch(uniqueId('cl'), 'a'), echoLaunch(uniqueId('cl'), 'b')];
        const taken = await backend.createAndLaunch!(
          store,
          launches.map((launch) => launch.record),
          launches.map((launch) => launch.invocation),
        );
        if (!taken) {
          for (const { record } of launches) expect(await store.get(record.key)).toBeUndefined();
          return;
        }
        for (const [index, { record }] of launches.entries()) {
          await suite.waitForStatus(record.key, ['completed']);
          expect(await store.get(record.key)).toMatchObject({
            status: 'completed',
            value: jsonCodec.encode(['a', 'b'][index]),
            attempt: 1,
          });
        }
      },
      { when: background },
    );

    test(
      'create-and-launch-taken',
      'should refuse a batch holding a taken key with KeyExistsError, and neither write nor run the others',
      async (context) => {
        const { backend, holder } = await offering(context);
        const store = suite.getStore();
        const fresh = echoLaunch(uniqueId('cl-fresh'), 'fresh');
        const clash = echoLaunch(holder.key, 'clash');
        const outcome = await backend.createAndLaunch!(
          store,
          [fresh.record, clash.record],
          [fresh.invocation, clash.invocation],
        ).catch((error: unknown) => error);
        if (outcome === false) context.skip(`${backend.name} does not take this store's records`);
        expect(KeyExistsError.isInstance(outcome)).toBe(true);
        // Long enough for a worker to have picked up a queue entry written by mistake.
        await delay(500 * scale);
        expect(await store.get(fresh.record.key)).toBeUndefined();
        expect(await store.get(holder.key)).toMatchObject({ status: 'completed', value: 'holder' });
      },
      { when: background },
    );
  });
}
