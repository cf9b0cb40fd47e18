import { InProcessBackend } from '@au/core';
import { testBackend } from '../src/index';

testBackend(
  'InProcessBackend',
  ({ concurrency, logger }) =>
    new InProcessBackend({ logger, ...(concurrency === undefined ? {} : { concurrency }) }),
  {},
);
