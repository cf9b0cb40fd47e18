import {
  ClosedError,
  type ComputationPatch,
  type ComputationStore,
  defineTask,
  InProcessBackend,
  MemoryStore,
  type UpdateOptions,
} from '@au/core';
import { completeComputation } from '@au/core/kit';
import { type FaultyStore, faultyStore } from '@au/testing';
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

/** Every write and read fails from now on, as if the store's process had died (open watches stay, read-only). */
function kill(view: FaultyStore): void {
  const methods = ['get', 'create', 'createMany', 'update', 'claim', 'delete', 'list'] as const;
  view.setFaults(
    methods.map((method) => ({ method, error: new ClosedError({ component: 'dead process' }) })),
  );
}

/** A node task that blocks its first `blocked` runs until `release`, then returns `n`. */
function heldTask(name: string, blocked: number) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const runs: number[] = [];
  const task = defineTask({
    name,
    run: async ({ n }: { n: number }) => {
      runs.push(n);
      if (runs.length <= blocked) await released;
      return n;
    },
  });
  return { task, runs, release: () => release() };
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

  describe('when a resumed graph dies too and is resumed again', () => {
    it('should relaunch the node once more under a new key and cancel the one before', async () => {
      const store = new MemoryStore();
      const held = heldTask('wf.held-twice', 2);
      cleanups.push(async () => held.release());
      const define = (graph: TaskGraph) => {
        const a = graph.add(constant, { n: 1 }, { id: 'a' });
        graph.add(held.task, ([n]) => ({ n: n + 1 }), { id: 'b', dependsOn: [a] });
      };
      const runOn = async (view: ComputationStore, resume: boolean) => {
        const backend = new InProcessBackend();
        cleanups.push(() => backend.close({ timeout: 0 }));
        const graph = resume
          ? await TaskGraph.resume(view, 'twice', { backend, define, relaunchUnfinished: true })
          : new TaskGraph({ store: view, backend, key: 'twice' });
        if (!resume) define(graph);
        return graph;
      };
      const first = faultyStore(store, []);
      void (await runOn(first, false)).run().catch(() => undefined);
      await waitUntil(async () => (await store.get('twice:b'))?.status === 'running');
      kill(first);
      const second = faultyStore(store, []);
      void (await runOn(second, true)).run().catch(() => undefined);
      await waitUntil(async () => (await store.get('twice:b:relaunch-2'))?.status === 'running');
      kill(second);

      const third = await runOn(store, true);
      const results = await third.run();
      expect(results.byId).toEqual({ a: 1, b: 2 });
      expect(held.runs).toEqual([2, 2, 2]);
      expect((await store.get('twice'))?.meta?.relaunches).toEqual({
        b: ['twice:b:relaunch-2', 'twice:b:relaunch-3'],
      });
      expect((await third.handle.result()).nodes.b).toEqual({
        key: 'twice:b:relaunch-3',
        status: 'completed',
      });
      expect((await store.get('twice:b'))?.status).toBe('cancelled');
      const before = await store.get('twice:b:relaunch-2');
      expect(before?.status).toBe('cancelled');
      expect(before?.error?.reason).toContain('resume launched it again as "twice:b:relaunch-3"');
      expect(await store.get('twice:b:relaunch-3')).toMatchObject({
        status: 'completed',
        meta: { node: 'b', relaunchOf: 'twice:b:relaunch-2' },
      });
    });

    it('should launch under the recorded key when the resume died before launching, and cancel the orphan', async () => {
      const store = new MemoryStore();
      const held = heldTask('wf.held-gap', 1);
      cleanups.push(async () => held.release());
      const define = (graph: TaskGraph) => {
        const a = graph.add(constant, { n: 1 }, { id: 'a' });
        graph.add(held.task, ([n]) => ({ n: n + 10 }), { id: 'b', dependsOn: [a] });
      };
      const first = faultyStore(store, []);
      const firstGraph = new TaskGraph({ store: first, backend: new InProcessBackend(), key: 'gap' });
      define(firstGraph);
      void firstGraph.run().catch(() => undefined);
      await waitUntil(async () => (await store.get('gap:b'))?.status === 'running');
      kill(first);
      // This resume records b's new key, then dies as it cancels the orphan.
      const dying = faultyStore(store, {
        method: 'update',
        on: (_call, args) => args[0] === 'gap:b' && (args[1] as ComputationPatch).status === 'cancelled',
        error: new ClosedError({ component: 'dead process' }),
      });
      const backend = new InProcessBackend();
      cleanups.push(() => backend.close({ timeout: 0 }));
      const dead = await TaskGraph.resume(dying, 'gap', { backend, define, relaunchUnfinished: true });
      await expect(dead.run()).rejects.toThrowError(/is closed/);
      expect((await store.get('gap'))?.meta?.relaunches).toEqual({ b: ['gap:b:relaunch-2'] });
      expect(await store.get('gap:b:relaunch-2')).toBeUndefined();

      const resumed = await TaskGraph.resume(store, 'gap', { backend, define, relaunchUnfinished: true });
      expect((await resumed.run()).byId).toEqual({ a: 1, b: 11 });
      // The record under the recorded key was gone, so the node was launched under that same key.
      expect((await store.get('gap'))?.meta?.relaunches).toEqual({ b: ['gap:b:relaunch-2'] });
      expect((await store.get('gap:b:relaunch-2'))?.status).toBe('completed');
      const orphan = await store.get('gap:b');
      expect(orphan?.status).toBe('cancelled');
      expect(orphan?.error?.reason).toBe('node "b" now runs as "gap:b:relaunch-2"');
    });
  });

  describe('when a node left running ends on its own while the resume relaunches it', () => {
    it('should keep that outcome and that key, and launch nothing again', async () => {
      /** Completes `own:b` just before the resume's cancel of it lands, as a live worker would. */
      class RacingStore extends MemoryStore {
        override async update(key: string, patch: ComputationPatch, options?: UpdateOptions) {
          if (key === 'own:b' && patch.status === 'cancelled') {
            await completeComputation(this, key, { value: 21, ttl: null });
          }
          return super.update(key, patch, options);
        }
      }
      const store = new RacingStore();
      const held = heldTask('wf.held-own', 1);
      cleanups.push(async () => held.release());
      const define = (graph: TaskGraph) => {
        const a = graph.add(constant, { n: 1 }, { id: 'a' });
        const b = graph.add(held.task, ([n]) => ({ n: n + 20 }), { id: 'b', dependsOn: [a] });
        graph.add(double, ([n]) => ({ n }), { id: 'c', dependsOn: [b] });
      };
      const first = faultyStore(store, []);
      const firstGraph = new TaskGraph({ store: first, backend: new InProcessBackend(), key: 'own' });
      define(firstGraph);
      void firstGraph.run().catch(() => undefined);
      await waitUntil(async () => (await store.get('own:b'))?.status === 'running');
      kill(first);
      const backend = new InProcessBackend();
      cleanups.push(() => backend.close({ timeout: 0 }));
      const resumed = await TaskGraph.resume(store, 'own', { backend, define, relaunchUnfinished: true });
      expect((await resumed.run()).byId).toEqual({ a: 1, b: 21, c: 42 });
      expect(held.runs).toEqual([21]);
      expect(await store.get('own:b:relaunch-2')).toBeUndefined();
      expect((await store.get('own'))?.meta?.relaunches).toEqual({});
      expect((await resumed.handle.result()).nodes.b).toEqual({ key: 'own:b', status: 'completed' });
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
