import { InProcessBackend } from '@au/core';
import { testBackend } from '../src/index';

testBackend(
  'InProcessBackend',
  ({ concurrency }) => new InProcessBackend(concurrency === undefined ? {} : { concurrency }),
);
