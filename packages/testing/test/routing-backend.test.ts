import { InProcessBackend, RoutingBackend } from '@au/core';
import { testBackend } from '../src/index';

// The conformance tasks declare no resource hint: they run on the default backend, while
// cancel, bind, close and ping go through the routing layer to both backends.
testBackend(
  'RoutingBackend',
  ({ concurrency, logger }) =>
    new RoutingBackend({
      routes: { cpu: new InProcessBackend({ logger }) },
      default: new InProcessBackend({ logger, ...(concurrency === undefined ? {} : { concurrency }) }),
    }),
  // Its own maxQueued is its backends': the routing tests of @au/backend-threads check it.
  { skip: ['backend-max-queued'] },
);
