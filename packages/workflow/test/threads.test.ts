// The same graphs and pipelines on ThreadsBackend (@au/backend-threads): tasks travel by name
// to worker threads that load ./fixtures/tasks.ts.
import { isMainThread } from 'node:worker_threads';
import { ThreadsBackend } from '@au/backend-threads';
import { CancelledError, MemoryStore } from '@au/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GraphFailedError, pipeline, TaskGraph } from '../src/index';
import { analyse, constant, type Document, double, explode, slow, sum } from './fixtures/tasks';
import { crashTasksUrl, runCrashScenario } from './helpers/crash-scenario';

const tasksUrl = new URL('./fixtures/tasks.ts', import.meta.url);
let backend: ThreadsBackend;
let store: MemoryStore;

// One pool of threads for the file (starting threads is slow); a backend writes one
// store, so the tests share it too: each graph has its own keys.
beforeAll(() => {
  store = new MemoryStore();
  backend = new ThreadsBackend({
    tasks: [tasksUrl],
    concurrency: 2,
    minThreads: 2,
    cancelGracePeriod: 100,
    store,
  });
});

afterAll(async () => {
  await backend.close({ timeout: 2000 });
  await store.close();
});

describe('TaskGraph on ThreadsBackend', () => {
  describe('when the graph is a diamond', () => {
    it('should pass the parents results to the child', async () => {
      const graph = new TaskGraph({ store, backend });
      const top = graph.add(constant, { n: 5 });
      const left = graph.add(double, ([n]) => ({ n }), { dependsOn: [top] });
      const right = graph.add(sum, ([n]) => ({ values: [n, 1] }), { dependsOn: [top] });
      const bottom = graph.add(sum, ([l, r]) => ({ values: [l, r] }), { dependsOn: [left, right] });
      expect((await graph.run()).get(bottom)).toBe(16);
    });
  });

  describe('when a node fans out to 100 children', () => {
    it('should run every child on the threads and join them', async () => {
      const graph = new TaskGraph({ store, backend });
      const root = graph.add(constant, { n: 2 });
      const children = Array.from({ length: 100 }, (_, index) =>
        graph.add(double, ([n]) => ({ n: n + index }), { id: `c${index}`, dependsOn: [root] }),
      );
      const total = graph.add(sum, (values) => ({ values }), { dependsOn: children });
      expect((await graph.run()).get(total)).toBe(2 * (200 + (99 * 100) / 2));
    }, 30_000);
  });

  describe('when a node fails', () => {
    it('should stop everything under failFast', async () => {
      const graph = new TaskGraph({ store, backend });
      const bad = graph.add(explode, { message: 'thread boom' }, { id: 'bad' });
      graph.add(slow, { ms: 10_000, n: 1 }, { id: 'independent' });
      graph.add(double, ([n]) => ({ n }), { id: 'child', dependsOn: [bad] });
      const error = (await graph.run().catch((caught: unknown) => caught)) as GraphFailedError;
      expect(GraphFailedError.isInstance(error)).toBe(true);
      expect(error.message).toContain('thread boom');
      expect((await store.get(`${graph.key}:independent`))?.status).toBe('cancelled');
      expect((await store.get(`${graph.key}:child`))?.status).toBe('cancelled');
    });

    it('should let independent branches finish under continue', async () => {
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      const bad = graph.add(explode, { message: 'thread boom' }, { id: 'bad' });
      const good = graph.add(constant, { n: 3 }, { id: 'good' });
      graph.add(double, ([n]) => ({ n }), { id: 'after-good', dependsOn: [good] });
      graph.add(double, ([n]) => ({ n }), { id: 'after-bad', dependsOn: [bad] });
      const error = (await graph.run().catch((caught: unknown) => caught)) as GraphFailedError;
      expect(error.results).toEqual({ good: 3, 'after-good': 6 });
      expect((await store.get(`${graph.key}:after-bad`))?.error?.message).toContain(
        'node "bad" it depends on failed',
      );
    });
  });

  describe('when a node runs a task the threads do not load', () => {
    it('should fail that node with TaskNotFoundError instead of hanging', async () => {
      const { defineTask } = await import('@au/core');
      const unknown = defineTask({ name: 'wf.not-in-the-modules', run: () => 1 });
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      const a = graph.add(constant, { n: 1 }, { id: 'a' });
      graph.add(unknown, undefined, { id: 'unknown', dependsOn: [a] });
      const error = (await graph.run().catch((caught: unknown) => caught)) as GraphFailedError;
      expect(GraphFailedError.isInstance(error)).toBe(true);
      const failure = error.failures.find((f) => f.node === 'unknown');
      expect(failure?.error?.name).toBe('TaskNotFoundError');
      expect(error.results).toEqual({ a: 1 });
    });
  });

  describe('when the graph is cancelled in the middle', () => {
    it('should stop the running thread work and cancel what is left', async () => {
      const graph = new TaskGraph({ store, backend });
      const first = graph.add(constant, { n: 1 }, { id: 'first' });
      const long = graph.add(slow, ([n]) => ({ ms: 20_000, n }), { id: 'long', dependsOn: [first] });
      graph.add(double, ([n]) => ({ n }), { id: 'after', dependsOn: [long] });
      const run = graph.run().catch((caught: unknown) => caught);
      const started = Date.now();
      while ((await store.get(`${graph.key}:long`))?.status !== 'running') {
        if (Date.now() - started > 10_000) throw new Error('long never started');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await graph.cancel('stop now');
      expect(CancelledError.isInstance(await run)).toBe(true);
      expect((await store.get(`${graph.key}:long`))?.status).toBe('cancelled');
      expect((await store.get(`${graph.key}:after`))?.status).toBe('cancelled');
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  });
});

describe('TaskGraph.resume on ThreadsBackend', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  describe('when the orchestrating process (threads backend) is killed with SIGKILL mid-run (FileSystemStore)', () => {
    it('should reuse finished results and run only the nodes that did not finish', async () => {
      await runCrashScenario(
        'threads',
        () => new ThreadsBackend({ tasks: [crashTasksUrl], concurrency: 2 }),
        cleanups,
      );
    }, 60_000);
  });
});

describe('pipeline on ThreadsBackend', () => {
  describe('when stages come on both sides of the dispatch', () => {
    it('should run the first stages here and the definePipeline task in a thread', async () => {
      const handle = await pipeline<Document>({ name: 'threads' })
        .use((document) => ({
          ...document,
          trail: [...document.trail, 'here'],
          where: [...document.where, isMainThread ? 'main' : 'thread'],
        }))
        .dispatch(backend, { store })
        .use(analyse)
        .run({ text: 'alpha beta', words: [], trail: [], where: [] });
      const result = await handle.result({ timeout: 10_000 });
      expect(result.trail).toEqual(['here', 'split', 'upper']);
      expect(result.words).toEqual(['ALPHA', 'BETA']);
      expect(result.where[0]).toBe('main');
      expect(result.where.slice(1)).toHaveLength(2);
      for (const where of result.where.slice(1)) expect(where).toMatch(/^thread-\d+$/);
    });

    it('should refuse inline stages after the dispatch, pointing at definePipeline', async () => {
      await expect(
        pipeline<Document>({ name: 'inline-on-threads' })
          .dispatch(backend, { store })
          .use((document) => document)
          .run({ text: 'x', words: [], trail: [], where: [] }),
      ).rejects.toThrowError(/backend threads runs tasks by name.*definePipeline/);
    });
  });
});
