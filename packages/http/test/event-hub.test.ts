import { MemoryStore } from '@au/core';
import { describe, expect, it } from 'vitest';
import { EventHub, type HubEvent } from '../src/event-hub';

const record = (key: string) => ({
  key,
  task: 'hub',
  status: 'pending' as const,
  attempt: 0,
  maxAttempts: 1,
  createdAt: Date.now(),
});

describe('EventHub', () => {
  describe('when a client comes back with the id of its last event', () => {
    it('should replay the events after it, and refuse ids it cannot tell', async () => {
      const store = new MemoryStore();
      const hub = new EventHub(store, { replay: 2 });
      const seen: HubEvent[] = [];
      const unsubscribe = hub.subscribe((event) => seen.push(event));
      for (const key of ['a', 'b', 'c', 'd']) await store.create(record(key));
      expect(seen.map((event) => event.record.key)).toEqual(['a', 'b', 'c', 'd']);
      expect(hub.since(seen[1]!.id)?.map((event) => event.record.key)).toEqual(['c', 'd']);
      expect(hub.since(seen[3]!.id)).toEqual([]);
      // 'b' fell out of the 2 kept events: after 'a', it could not be replayed.
      expect(hub.since(seen[0]!.id)).toBeUndefined();
      expect(hub.since('0000-1')).toBeUndefined();
      expect(hub.since('not an id')).toBeUndefined();
      unsubscribe();
      hub.close();
      await store.close();
    });
  });

  describe('when it stopped following for lack of subscribers', () => {
    it('should answer ids from before the stop with a reset', async () => {
      const store = new MemoryStore();
      const hub = new EventHub(store, { idleTimeout: 1 });
      const seen: HubEvent[] = [];
      const leave = hub.subscribe((event) => seen.push(event));
      await store.create(record('a'));
      leave();
      await new Promise((resolve) => setTimeout(resolve, 20));
      const before = seen.at(-1)!.id;
      const after: HubEvent[] = [];
      const unsubscribe = hub.subscribe((event) => after.push(event));
      await store.create(record('b'));
      expect(after.map((event) => event.record.key)).toEqual(['b']);
      expect(hub.since(before)).toBeUndefined();
      expect(hub.since(after[0]!.id)).toEqual([]);
      unsubscribe();
      hub.close();
      await store.close();
    });
  });
});
