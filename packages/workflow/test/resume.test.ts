import { type ComputationStore, defineTask, InProcessBackend, MemoryStore } from '@au/core';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphDefinitionError, TaskGraph } from '../src/index';
import { constant, double, sum } from './fixtures/tasks';
import { runCrashScenario } from './helpers/crash-scenario';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitUntil(check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('TaskGraph.resume', () => {
  describe('when the orchestrating process (in-process backend) is killed with SIGKILL mid-run (FileSystemStore)', () => {
    it('should reuse finished results and run only the nodes that did not finish', async () => {
      await runCrashScenario('in-process', () => new InProcessBackend(), cleanups);
    }, 60_000);
  });

  describe('when a graph object is abandoned mid-run on a shared MemoryStore', () => {
    it('should run again only the nodes that had not been launched', async () => {
      const store = new MemoryStore();
      const runs: string[] = [];
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const counted = defineTask({
        name: 'wf.counted',
        run: async ({ id, wait }: { id: string; wait: boolean }) => {
          runs.push(id);
          if (wait) await gate;
          return id.length;
        },
      });
      const define = (graph: TaskGraph) => {
        const a = graph.add(counted, { id: 'a', wait: false }, { id: 'a' });
        const b = graph.add(counted, { id: 'bb', wait: true }, { id: 'b' });
        graph.add(sum, (values) => ({ values: values as number[] }), { id: 'c', dependsOn: [a, b] });
      };
      const first = new TaskGraph({
        store,
        backend: new InProcessBackend(),
        key: 'abandoned',
        failurePolicy: 'continue',
      });
      define(first);
      void first.run().catch(() => undefined);
      await waitUntil(async () => (await store.get('abandoned:b'))?.status === 'running');
      // The first orchestrator is abandoned here (its node b is stuck); `b` finishes for
      // the resumed graph because the gate opens, and `a` must not run again.
      const backend = new InProcessBackend();
      const resumed = await TaskGraph.resume(store, 'abandoned', {
        backend,
        define,
        relaunchUnfinished: false,
      });
      const running = resumed.run();
      release();
      const results = await running;
      expect(results.byId).toEqual({ a: 1, b: 2, c: 3 });
      expect(runs.sort()).toEqual(['a', 'bb']);
      await backend.close();
    });
  });

  describe('when the definition given to resume differs from the stored one', () => {
    async function storedGraph(): Promise<ComputationStore> {
      const store = new MemoryStore();
      const graph = new TaskGraph({ store, backend: new InProcessBackend(), key: 'stored' });
      const a = graph.add(constant, { n: 1 }, { id: 'a' });
      graph.add(double, ([n]) => ({ n }), { id: 'b', dependsOn: [a] });
      await graph.run();
      return store;
    }

    it('should refuse a missing node, an extra node, or other edges', async () => {
      const store = await storedGraph();
      const backend = new InProcessBackend();
      await expect(
        TaskGraph.resume(store, 'stored', {
          backend,
          define: (g) => void g.add(constant, { n: 1 }, { id: 'a' }),
        }),
      ).rejects.toThrowError(/define did not add stored node "b"/);
      await expect(
        TaskGraph.resume(store, 'stored', {
          backend,
          define: (g) => {
            g.add(constant, { n: 1 }, { id: 'a' });
            g.add(double, { n: 1 }, { id: 'b' });
          },
        }),
      ).rejects.toThrowError(/node "b" .* differs from the stored "b" .*after \[a\]/);
      const error = await TaskGraph.resume(store, 'stored', {
        backend,
        define: (g) => void g.add(constant, { n: 1 }, { id: 'z' }),
      }).catch((caught: unknown) => caught);
      expect(GraphDefinitionError.isInstance(error)).toBe(true);
    });

    it('should refuse a key that is no graph', async () => {
      const store = new MemoryStore();
      await expect(
        TaskGraph.resume(store, 'nothing', { backend: new InProcessBackend(), define: () => undefined }),
      ).rejects.toThrowError(/there is no graph record under this key/);
    });

    it('should report a finished graph without running anything again', async () => {
      const store = await storedGraph();
      const graph = await TaskGraph.resume(store, 'stored', {
        backend: new InProcessBackend(),
        define: (g) => {
          const a = g.add(constant, { n: 1 }, { id: 'a' });
          g.add(double, ([n]) => ({ n: n + 1000 }), { id: 'b', dependsOn: [a] });
        },
      });
      expect((await graph.run()).byId).toEqual({ a: 1, b: 2 });
    });
  });
});
