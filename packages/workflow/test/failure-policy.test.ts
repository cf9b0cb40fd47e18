// The failure policies on their own: what a node's end does to the graph, decided
// without a store or a backend (the orchestrator carries the decision out).
import { CancelledError, jsonCodec, type TaskDefinition } from '@au/core';
import { describe, expect, it } from 'vitest';
import { GraphFailedError } from '../src/errors/graph-failed-error';
import { consequenceOf, graphOutcome, waitingDependents } from '../src/failure-policy';
import type { GraphNode, NodeState } from '../src/graph-node';
import type { NodeRef } from '../src/node-ref';
import type { FailurePolicy } from '../src/task-graph-options';

/** Builds nodes by id, each with its parents' ids, all `waiting` and under `failFast` unless said. */
function nodes(
  spec: Record<string, string[]>,
  policy: FailurePolicy = 'failFast',
): Record<string, GraphNode> {
  const byId: Record<string, GraphNode> = {};
  for (const [index, [id, parentIds]] of Object.entries(spec).entries()) {
    const parents = parentIds.map((parent) => byId[parent]!);
    const node: GraphNode = {
      index,
      id,
      definedKey: `g:${id}`,
      key: `g:${id}`,
      task: { name: 't' } as TaskDefinition,
      parents,
      children: [],
      args: { value: undefined },
      options: {},
      failurePolicy: policy,
      codec: jsonCodec,
      ref: {} as NodeRef,
      state: 'waiting',
    };
    for (const parent of parents) parent.children.push(node);
    byId[id] = node;
  }
  return byId;
}

function end(node: GraphNode, state: NodeState, value?: unknown): GraphNode {
  node.state = state;
  if (value !== undefined) node.value = value;
  return node;
}

describe('failure policy', () => {
  describe('when a node fails under failFast', () => {
    it('should stop the whole graph, naming the node', () => {
      const graph = nodes({ a: [], b: ['a'], c: [] });
      expect(consequenceOf(end(graph.a!, 'failed'))).toEqual({
        kind: 'stop',
        stop: { status: 'failed', reason: 'node "a" failed and its failure policy is failFast' },
      });
    });
  });

  describe('when a node fails under continue', () => {
    it('should cancel only its waiting dependents, transitively, each once', () => {
      // a → b → d, a → c → d (a diamond below a), e independent.
      const graph = nodes({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: [] }, 'continue');
      const consequence = consequenceOf(end(graph.a!, 'failed'));
      expect(consequence.kind).toBe('cancel');
      if (consequence.kind !== 'cancel') return;
      expect(consequence.nodes.map((node) => node.id)).toEqual(['b', 'c', 'd']);
      expect(consequence.reason).toBe('node "a" it depends on failed');
    });
  });

  describe('when a node is cancelled', () => {
    it('should cancel its dependents with the reason, whatever its policy', () => {
      const graph = nodes({ a: [], b: ['a'] }, 'failFast');
      expect(consequenceOf(end(graph.a!, 'cancelled'))).toEqual({
        kind: 'cancel',
        nodes: [graph.b],
        reason: 'node "a" was cancelled',
      });
    });
  });

  describe('when a node completes', () => {
    it('should change nothing else', () => {
      const graph = nodes({ a: [], b: ['a'] });
      expect(consequenceOf(end(graph.a!, 'completed', 1))).toEqual({ kind: 'none' });
    });
  });

  describe('when dependents have already started', () => {
    it('should leave them and what is below them alone', () => {
      const graph = nodes({ a: [], b: ['a'], c: ['b'] });
      end(graph.b!, 'running');
      expect(waitingDependents(graph.a!)).toEqual([]);
    });
  });

  describe('when the graph ends', () => {
    it('should complete with every result when every node completed', () => {
      const graph = nodes({ a: [], b: ['a'] });
      end(graph.a!, 'completed', 1);
      end(graph.b!, 'completed', 2);
      const outcome = graphOutcome('g', Object.values(graph), undefined);
      expect(outcome).toEqual({
        status: 'completed',
        results: { a: 1, b: 2 },
        summary: {
          status: 'completed',
          nodes: { a: { key: 'g:a', status: 'completed' }, b: { key: 'g:b', status: 'completed' } },
        },
      });
    });

    it('should fail with the failures and the partial results when a node failed', () => {
      const graph = nodes({ a: [], b: [], c: ['b'] }, 'continue');
      end(graph.a!, 'completed', 1);
      end(graph.b!, 'failed').error = { name: 'Error', message: 'boom' };
      end(graph.c!, 'cancelled');
      graph.c!.key = 'g:c:relaunch-2';
      const outcome = graphOutcome('g', Object.values(graph), undefined);
      expect(outcome.status).toBe('failed');
      expect(GraphFailedError.isInstance(outcome.error)).toBe(true);
      const error = outcome.error as GraphFailedError;
      expect(error.results).toEqual({ a: 1 });
      expect(error.failures.map((failure) => [failure.node, failure.key, failure.status])).toEqual([
        ['b', 'g:b', 'failed'],
        ['c', 'g:c:relaunch-2', 'cancelled'],
      ]);
      expect(outcome.summary.nodes.c).toEqual({ key: 'g:c:relaunch-2', status: 'cancelled' });
    });

    it('should end cancelled with the stop reason when the graph was cancelled, even after a failure', () => {
      const graph = nodes({ a: [], b: [] });
      end(graph.a!, 'failed');
      end(graph.b!, 'cancelled');
      const outcome = graphOutcome('g', Object.values(graph), {
        status: 'cancelled',
        reason: 'user pressed stop',
      });
      expect(outcome.status).toBe('cancelled');
      expect(CancelledError.isInstance(outcome.error)).toBe(true);
      expect((outcome.error as CancelledError).reason).toBe('user pressed stop');
    });

    it('should end cancelled, naming the nodes, when a node was cancelled by hand and none failed', () => {
      const graph = nodes({ a: [], b: [] });
      end(graph.a!, 'completed', 1);
      end(graph.b!, 'cancelled');
      const outcome = graphOutcome('g', Object.values(graph), undefined);
      expect((outcome.error as CancelledError).reason).toBe('node(s) "b" cancelled');
    });
  });
});
