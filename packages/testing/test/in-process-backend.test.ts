import { InProcessBackend } from '@au/core';
import { testBackend } from '../src/index';

// Skips [record-missing-logged] until core logs it: its executor drops the claim of a deleted
// record without a word (packages/core/src/executor.ts, `if (!claim.claimed) return { status: 'skipped', … }`).
testBackend(
  'InProcessBackend',
  ({ concurrency, logger }) =>
    new InProcessBackend({ logger, ...(concurrency === undefined ? {} : { concurrency }) }),
  { skip: ['record-missing-logged'] },
);
