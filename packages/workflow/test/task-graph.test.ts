import { CancelledError, type ComputationRecord, InProcessBackend, MemoryStore } from '@au/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GRAPH_TASK,
  GraphDefinitionError,
  GraphFailedError,
  GraphHandle,
  type GraphProgress,
  TaskGraph,
} from '../src/index';
import { constant, double, explode, slow, sum } from './fixtures/tasks';

let store: MemoryStore;
let backend: InProcessBackend;

beforeEach(() => {
  store = new MemoryStore();
  backend = new InProcessBackend({ concurrency: 50 });
});

afterEach(async () => {
  await backend.close({ timeout: 1000 });
  await store.close();
});

async function recordOf(key: string): Promise<ComputationRecord> {
  const record = await store.get(key);
  if (record === undefined) throw new Error(`no record ${key}`);
  return record;
}

describe('TaskGraph', () => {
  describe('when the graph is a diamond', () => {
    it('should pass each child its parents results in dependsOn order and return results by node', async () => {
      const graph = new TaskGraph({ store, backend });
      const top = graph.add(constant, { n: 3 }, { id: 'top' });
      const left = graph.add(double, ([n]) => ({ n }), { id: 'left', dependsOn: [top] });
      const right = graph.add(sum, ([n]) => ({ values: [n, 100] }), { id: 'right', dependsOn: [top] });
      const seen: unknown[] = [];
      const bottom = graph.add(
        sum,
        (parents) => {
          seen.push(parents);
          const [l, r] = parents;
          return { values: [l * 1000, r] };
        },
        { id: 'bottom', dependsOn: [left, right] },
      );
      const results = await graph.run();
      expect(seen).toEqual([[6, 103]]);
      expect(results.get(bottom)).toBe(6103);
      expect(results.byId).toEqual({ top: 3, left: 6, right: 103, bottom: 6103 });
      expect(await graph.handle.status()).toBe('completed');
      expect(await graph.handle.progress()).toEqual({
        done: 4,
        total: 4,
        completed: 4,
        failed: 0,
        cancelled: 0,
      });
      const summary = await graph.handle.result();
      expect(summary.nodes.bottom).toEqual({ key: `${graph.key}:bottom`, status: 'completed' });
    });

    it('should keep the graph in the store as an au:graph record with nodes, keys, edges and policies', async () => {
      const graph = new TaskGraph({ store, backend, key: 'diamond-1', failurePolicy: 'continue' });
      const a = graph.add(constant, { n: 1 });
      const b = graph.add(double, ([n]) => ({ n }), { dependsOn: [a] });
      graph.add(double, ([n]) => ({ n }), { dependsOn: [a], failurePolicy: 'failFast' });
      graph.add(sum, (values) => ({ values: values as number[] }), { dependsOn: [b, 'wf.double.2'] });
      await graph.run();
      const record = await recordOf('diamond-1');
      expect(record.task).toBe(GRAPH_TASK);
      expect(record.meta?.graph).toEqual({
        version: 1,
        failurePolicy: 'continue',
        nodes: [
          {
            id: 'wf.constant',
            task: 'wf.constant',
            key: 'diamond-1:wf.constant',
            dependsOn: [],
            failurePolicy: 'continue',
            argsFrom: 'value',
          },
          {
            id: 'wf.double',
            task: 'wf.double',
            key: 'diamond-1:wf.double',
            dependsOn: ['wf.constant'],
            failurePolicy: 'continue',
            argsFrom: 'parents',
          },
          {
            id: 'wf.double.2',
            task: 'wf.double',
            key: 'diamond-1:wf.double.2',
            dependsOn: ['wf.constant'],
            failurePolicy: 'failFast',
            argsFrom: 'parents',
          },
          {
            id: 'wf.sum',
            task: 'wf.sum',
            key: 'diamond-1:wf.sum',
            dependsOn: ['wf.double', 'wf.double.2'],
            failurePolicy: 'continue',
            argsFrom: 'parents',
          },
        ],
      });
      const child = await recordOf('diamond-1:wf.sum');
      expect(child.parent).toBe('diamond-1');
      expect(child.value).toBe(4);
    });
  });

  describe('when a node fans out to 100 children that fan back in', () => {
    it('should run all 102 nodes and reach the right total', async () => {
      const graph = new TaskGraph({ store, backend });
      const root = graph.add(constant, { n: 1 });
      const children = Array.from({ length: 100 }, (_, index) =>
        graph.add(sum, ([n]) => ({ values: [n, index] }), { id: `child-${index}`, dependsOn: [root] }),
      );
      const total = graph.add(sum, (values) => ({ values }), { id: 'total', dependsOn: children });
      const results = await graph.run();
      expect(results.get(total)).toBe(100 + (99 * 100) / 2);
      expect((await graph.handle.progress())?.done).toBe(102);
    });
  });

  describe('when a node fails under failFast', () => {
    it('should cancel every other node, dependents included, and end the graph failed', async () => {
      const graph = new TaskGraph({ store, backend, failurePolicy: 'failFast' });
      const bad = graph.add(explode, { message: 'boom' }, { id: 'bad' });
      const independent = graph.add(slow, { ms: 5_000, n: 1 }, { id: 'independent' });
      graph.add(double, ([n]) => ({ n }), { id: 'child', dependsOn: [bad] });
      graph.add(double, ([n]) => ({ n }), { id: 'grandchild', dependsOn: ['child'] });
      graph.add(double, ([n]) => ({ n }), { id: 'after-independent', dependsOn: [independent] });
      const error = await graph.run().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(GraphFailedError.isInstance(error)).toBe(true);
      const failed = error as GraphFailedError;
      expect(failed.message).toContain('node "bad" failed with Error: boom');
      expect(Object.fromEntries(failed.failures.map((f) => [f.node, f.status]))).toEqual({
        bad: 'failed',
        independent: 'cancelled',
        child: 'cancelled',
        grandchild: 'cancelled',
        'after-independent': 'cancelled',
      });
      expect((await recordOf(`${graph.key}:independent`)).status).toBe('cancelled');
      const grandchild = await recordOf(`${graph.key}:grandchild`);
      expect(grandchild.status).toBe('cancelled');
      expect(grandchild.error?.message).toContain('node "bad" failed');
      const graphRecord = await recordOf(graph.key);
      expect(graphRecord.status).toBe('failed');
      expect(graphRecord.error?.name).toBe('GraphFailedError');
    });
  });

  describe('when a node fails under continue', () => {
    it('should let independent branches finish and cancel only the dependents, with the reason', async () => {
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      const bad = graph.add(explode, { message: 'broken' }, { id: 'bad' });
      const good = graph.add(slow, { ms: 50, n: 7 }, { id: 'good' });
      graph.add(double, ([n]) => ({ n }), { id: 'after-good', dependsOn: [good] });
      graph.add(double, ([n]) => ({ n }), { id: 'after-bad', dependsOn: [bad] });
      graph.add(sum, (values) => ({ values: values as number[] }), {
        id: 'join',
        dependsOn: ['after-bad', 'after-good'],
      });
      const error = (await graph.run().catch((caught: unknown) => caught)) as GraphFailedError;
      expect(GraphFailedError.isInstance(error)).toBe(true);
      expect(error.results).toEqual({ good: 7, 'after-good': 14 });
      const statuses = Object.fromEntries(error.failures.map((f) => [f.node, f.status]));
      expect(statuses).toEqual({ bad: 'failed', 'after-bad': 'cancelled', join: 'cancelled' });
      const join = await recordOf(`${graph.key}:join`);
      expect(join.error?.message).toContain('node "bad" it depends on failed');
      expect(await graph.handle.status()).toBe('failed');
    });

    it('should let a node override the graph policy with its own', async () => {
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      graph.add(explode, { message: 'fatal' }, { id: 'bad', failurePolicy: 'failFast' });
      graph.add(slow, { ms: 5_000, n: 1 }, { id: 'independent' });
      const error = (await graph.run().catch((caught: unknown) => caught)) as GraphFailedError;
      expect(error.failures.find((f) => f.node === 'independent')?.status).toBe('cancelled');
    });
  });

  describe('when an args function or an input is bad', () => {
    it('should fail that node with the error and apply the policy', async () => {
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      const a = graph.add(constant, { n: 1 }, { id: 'a' });
      graph.add(
        double,
        (): { n: number } => {
          throw new TypeError('cannot build args');
        },
        { id: 'throws', dependsOn: [a] },
      );
      graph.add(double, { n: 'x' as unknown as number }, { id: 'invalid' });
      const error = (await graph.run().catch((caught: unknown) => caught)) as GraphFailedError;
      expect((await recordOf(`${graph.key}:throws`)).error?.message).toBe('cannot build args');
      expect((await recordOf(`${graph.key}:invalid`)).error?.name).toBe('ValidationError');
      expect(error.results).toEqual({ a: 1 });
    });
  });

  describe('when per-node options are given', () => {
    it('should take retry from the node over the task', async () => {
      let calls = 0;
      const { defineTask } = await import('@au/core');
      const flaky = defineTask({
        name: 'wf.flaky',
        retry: { attempts: 1 },
        run: () => {
          calls += 1;
          if (calls < 3) throw new Error('not yet');
          return calls;
        },
      });
      const graph = new TaskGraph({ store, backend });
      const node = graph.add(flaky, undefined, { retry: { attempts: 3, delay: 1, backoff: 'fixed' } });
      expect((await graph.run()).get(node)).toBe(3);
      expect((await recordOf(node.key)).attempt).toBe(3);
    });

    it('should take timeout and priority from the task when the node gives none', async () => {
      const { defineTask } = await import('@au/core');
      const limited = defineTask({
        name: 'wf.limited',
        timeout: 30,
        priority: 3,
        run: (_input: undefined, context) =>
          new Promise((_resolve, reject) =>
            context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true }),
          ),
      });
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      const node = graph.add(limited, undefined);
      await graph.run().catch(() => undefined);
      const record = await recordOf(node.key);
      expect(record.error?.name).toBe('TimeoutError');
      expect(record.priority).toBe(3);
    });

    it('should take timeout and priority from the node', async () => {
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      const node = graph.add(slow, { ms: 2_000, n: 1 }, { timeout: 30, priority: 7 });
      await graph.run().catch(() => undefined);
      const record = await recordOf(node.key);
      expect(record.error?.name).toBe('TimeoutError');
      expect(record.priority).toBe(7);
    });
  });

  describe('when the graph is cancelled in the middle', () => {
    it('should cancel running nodes and the ones not launched, and reject CancelledError', async () => {
      const graph = new TaskGraph({ store, backend });
      const fast = graph.add(constant, { n: 1 }, { id: 'fast' });
      const running = graph.add(slow, ([n]) => ({ ms: 10_000, n }), { id: 'running', dependsOn: [fast] });
      graph.add(double, ([n]) => ({ n }), { id: 'later', dependsOn: [running] });
      const run = graph.run().catch((caught: unknown) => caught);
      await waitUntil(async () => (await store.get(`${graph.key}:running`))?.status === 'running');
      expect(await graph.cancel('user pressed stop')).toBe(true);
      const error = await run;
      expect(CancelledError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('user pressed stop');
      expect((await recordOf(`${graph.key}:fast`)).status).toBe('completed');
      expect((await recordOf(`${graph.key}:running`)).status).toBe('cancelled');
      expect((await recordOf(`${graph.key}:later`)).status).toBe('cancelled');
      expect(await graph.handle.status()).toBe('cancelled');
      expect(await graph.cancel()).toBe(false);
    });

    it('should stop when the graph record is cancelled by key from another handle', async () => {
      const graph = new TaskGraph({ store, backend });
      graph.add(slow, { ms: 10_000, n: 1 }, { id: 'long' });
      const run = graph.run().catch((caught: unknown) => caught);
      await waitUntil(async () => (await store.get(`${graph.key}:long`))?.status === 'running');
      const elsewhere = new GraphHandle(graph.key, {
        store,
        backend,
        codec: (await import('@au/core')).jsonCodec,
      });
      expect(await elsewhere.cancel('from the dashboard')).toBe(true);
      expect(CancelledError.isInstance(await run)).toBe(true);
      expect((await recordOf(`${graph.key}:long`)).status).toBe('cancelled');
    });
  });

  describe('when progress is read while running', () => {
    it('should count done nodes out of the total', async () => {
      const graph = new TaskGraph({ store, backend });
      const first = graph.add(constant, { n: 1 });
      graph.add(slow, ([n]) => ({ ms: 10_000, n }), { dependsOn: [first] });
      const run = graph.run().catch(() => undefined);
      await waitUntil(async () => ((await graph.handle.progress()) as GraphProgress | undefined)?.done === 1);
      expect(await graph.handle.progress()).toEqual({
        done: 1,
        total: 2,
        completed: 1,
        failed: 0,
        cancelled: 0,
      });
      expect(await graph.handle.status()).toBe('running');
      await graph.cancel();
      await run;
    });
  });

  describe('when an option is unknown', () => {
    it('should name it in a TypeError in new TaskGraph, add and resume', async () => {
      expect(() => new TaskGraph({ store, backend, concurency: 4 } as never)).toThrowError(
        /new TaskGraph: unknown option "concurency"/,
      );
      const graph = new TaskGraph({ store, backend, key: 'opts' });
      expect(() => graph.add(double, { n: 1 }, { id: 'a', dependOn: [] } as never)).toThrowError(
        /add\(wf.double\): unknown option "dependOn" \(did you mean "dependsOn"\?\)/,
      );
      await expect(
        TaskGraph.resume(store, 'opts', { backend, define: () => undefined, relaunch: true } as never),
      ).rejects.toThrowError(/TaskGraph.resume\("opts"\): unknown option "relaunch"/);
    });
  });

  describe('when dependencies are wrong', () => {
    it('should refuse a dependency on a node not added yet, naming it', () => {
      const graph = new TaskGraph({ store, backend, key: 'g1' });
      expect(() => graph.add(double, { n: 1 }, { id: 'b', dependsOn: ['a'] })).toThrowError(
        /graph "g1": node "b" depends on "a", which is not in the graph: add a node before/,
      );
    });

    it('should refuse a node that depends on itself as a cycle', () => {
      const graph = new TaskGraph({ store, backend });
      expect(() => graph.add(double, { n: 1 }, { id: 'loop', dependsOn: ['loop'] })).toThrowError(
        /node "loop" cannot depend on itself: that is a cycle/,
      );
    });

    it('should refuse a node of another graph', () => {
      const one = new TaskGraph({ store, backend, key: 'one' });
      const two = new TaskGraph({ store, backend, key: 'two' });
      const a = one.add(constant, { n: 1 });
      let caught: unknown;
      try {
        two.add(double, { n: 1 }, { dependsOn: [a] });
      } catch (error) {
        caught = error;
      }
      expect(GraphDefinitionError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toContain('depends on node "wf.constant" of another graph ("one")');
    });

    it('should refuse duplicate ids, invalid ids, and adding after the start', async () => {
      const graph = new TaskGraph({ store, backend });
      graph.add(constant, { n: 1 }, { id: 'x' });
      expect(() => graph.add(constant, { n: 1 }, { id: 'x' })).toThrowError(
        /a node "x" is already in the graph/,
      );
      expect(() => graph.add(constant, { n: 1 }, { id: 'a b' })).toThrowError(/node id "a b" is not valid/);
      await graph.run();
      expect(() => graph.add(constant, { n: 1 })).toThrowError(/the graph has already started/);
    });

    it('should refuse to run twice under one key', async () => {
      const first = new TaskGraph({ store, backend, key: 'same' });
      first.add(constant, { n: 1 });
      await first.run();
      const second = new TaskGraph({ store, backend, key: 'same' });
      second.add(constant, { n: 1 });
      await expect(second.run()).rejects.toThrowError(/use TaskGraph.resume/);
    });
  });

  describe('when drawn with toMermaid', () => {
    it('should draw every node with its status and every edge', async () => {
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      const a = graph.add(constant, { n: 1 }, { id: 'a' });
      const b = graph.add(explode, { message: 'no' }, { id: 'b' });
      graph.add(sum, (values) => ({ values }), { id: 'c', dependsOn: [a, b] });
      expect(graph.toMermaid()).toContain('n0["a<br/><small>wf.constant</small><br/>waiting"]:::waiting');
      await graph.run().catch(() => undefined);
      const drawing = graph.toMermaid();
      expect(drawing.split('\n')[0]).toBe('flowchart TD');
      expect(drawing).toContain('n0["a<br/><small>wf.constant</small><br/>completed"]:::completed');
      expect(drawing).toContain('n1["b<br/><small>wf.explode</small><br/>failed"]:::failed');
      expect(drawing).toContain('n2["c<br/><small>wf.sum</small><br/>cancelled"]:::cancelled');
      expect(drawing).toContain('n0 --> n2');
      expect(drawing).toContain('n1 --> n2');
      expect(drawing).toContain('classDef failed');
    });
  });
});

async function waitUntil(check: () => Promise<boolean>, timeout = 5_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
