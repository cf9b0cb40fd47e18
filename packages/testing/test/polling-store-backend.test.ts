import { InProcessBackend, MemoryStore, type StoreCapabilities } from '@au/core';
import { testBackend, testStore } from '../src/index';

/** A MemoryStore that announces no `watch`: handles fall back to polling, as over fs or SQL stores. */
class PollingMemoryStore extends MemoryStore {
  override readonly capabilities: StoreCapabilities = { watch: false, shared: false, nativeTtl: false };
}

testStore('MemoryStore without watch', () => new PollingMemoryStore(), {
  skip: ['list-paging', 'large-value', 'list-limit'],
});

testBackend(
  'InProcessBackend over a store without watch',
  ({ concurrency, logger, maxQueued }) =>
    new InProcessBackend({ logger, maxQueued, ...(concurrency === undefined ? {} : { concurrency }) }),
  { makeStore: () => new PollingMemoryStore(), manyCount: 200 },
);
