import { countComputations } from '@au/core';
import { describe, expect } from 'vitest';
import { killProducerMidLaunch, unfinishedAfter } from '../killed-producer';
import type { BackendSuite } from './backend-suite';
import { uniqueId } from './unique';
import { delay } from './wait-until';

/**
 * `testBackend`'s `producer-killed` case, for backends given a `producerProcess`: a
 * producer SIGKILLed in the middle of launches, unkeyed then keyed, leaves no record
 * without its queue entry; the backend's workers end every record it created.
 */
export function producerKilledCase(suite: BackendSuite): void {
  const { test, scale, background } = suite;
  describe('when a producer dies in the middle of launches', () => {
    test(
      'producer-killed',
      'should leave no record without its queue entry: every computation the producer created ends, keyed or not',
      async (context) => {
        if (suite.producerProcess === undefined) {
          context.skip('no `producerProcess` given (a durable backend gives one)');
          return;
        }
        const store = suite.getStore();
        // Its workers (those in this process) run what the producers leave.
        const producer = suite.producerProcess(await suite.getBackend());
        for (const keyed of [false, true]) {
          const tag = uniqueId(keyed ? 'killed-keyed' : 'killed');
          await killProducerMidLaunch(producer.entry, {
            ...producer,
            launchFor: 300,
            env: { ...producer.env, AU_PRODUCER_TAG: tag, ...(keyed ? { AU_PRODUCER_KEYED: '1' } : {}) },
          });
          // A write the producer sent just before it died may land after it (the server
          // finishes what it received): wait until it has had time to, then count.
          await delay(300);
          expect(await unfinishedAfter(store, 20_000 * scale, { tag }), 'records left unfinished').toBe(0);
          const created = await countComputations(store, { tag });
          expect(created, 'the producer should have launched before it was killed').toBeGreaterThan(1);
          expect(await countComputations(store, { tag, status: 'completed' })).toBe(created);
        }
      },
      { timeout: 60_000 * scale, when: background },
    );
  });
}
