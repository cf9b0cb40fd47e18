// The README's smallest example and the docs' pipeline example, run as written (inline tasks).
import { defineTask, InProcessBackend, MemoryStore } from '@au/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline, defineStage, pipeline, TaskGraph } from '../src/index';

describe('docs examples', () => {
  describe('when the README example runs', () => {
    it('should compute the report and draw the graph', async () => {
      const fetchUser = defineTask({
        name: 'fetchUser',
        run: ({ id }: { id: number }) => ({ id, name: `user ${id}` }),
      });
      const fetchOrders = defineTask({
        name: 'fetchOrders',
        run: (_input: { id: number }) => [{ total: 12 }, { total: 30 }],
      });
      const report = defineTask({
        name: 'report',
        run: ({ name, totals }: { name: string; totals: number[] }) =>
          `${name}: ${totals.reduce((a, b) => a + b, 0)}`,
      });
      const backend = new InProcessBackend();
      const graph = new TaskGraph({ store: new MemoryStore(), backend });
      const user = graph.add(fetchUser, { id: 7 });
      const orders = graph.add(fetchOrders, { id: 7 });
      const summary = graph.add(
        report,
        ([u, o]) => ({ name: u.name, totals: o.map((order) => order.total) }),
        { dependsOn: [user, orders] },
      );
      const results = await graph.run();
      const text: string = results.get(summary);
      expect(text).toBe('user 7: 42');
      expect(await graph.handle.progress()).toEqual({
        done: 3,
        total: 3,
        completed: 3,
        failed: 0,
        cancelled: 0,
      });
      expect(graph.toMermaid()).toContain('n1 --> n2');
      await backend.close();
    });
  });

  describe('when the docs pipeline example runs on the in-process backend', () => {
    it('should count the words', async () => {
      const Doc = z.object({
        text: z.string(),
        words: z.array(z.string()).default([]),
        counts: z.record(z.string(), z.number()).default({}),
      });
      type Doc = z.infer<typeof Doc>;
      const split = defineStage<Doc>('split', (doc) => ({
        ...doc,
        words: doc.text.split(/\s+/).filter(Boolean),
      }));
      const count = defineStage<Doc>('count', (doc) => {
        const counts: Record<string, number> = {};
        for (const word of doc.words) counts[word] = (counts[word] ?? 0) + 1;
        return { ...doc, counts };
      });
      const analyse = definePipeline({ name: 'docs.analyse', context: Doc, stages: [split, count] });
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const handle = await pipeline({ name: 'ingest', context: Doc })
        .use((doc) => ({ ...doc, text: doc.text.trim().toLowerCase() }))
        .dispatch(backend, { store, ttl: 600 })
        .use(analyse)
        .run({ text: '  The cat and the hat  ', words: [], counts: {} });
      const result = await handle.result({ timeout: 5000 });
      expect(result.counts).toEqual({ the: 2, cat: 1, and: 1, hat: 1 });
      expect((await store.get(handle.key))?.ttl).toBe(600);
      await backend.close();
    });
  });
});
