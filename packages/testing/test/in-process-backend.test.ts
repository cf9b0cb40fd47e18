import { InProcessBackend } from '@au/core';
import { testBackend } from '../src/index';

testBackend(
  'InProcessBackend',
  ({ concurrency, logger, maxQueued }) =>
    new InProcessBackend({ logger, maxQueued, ...(concurrency === undefined ? {} : { concurrency }) }),
  {},
);
