import { CancelledError, type ComputationStatus } from '@au/core';
import { GraphFailedError, type GraphNodeFailure } from './errors/graph-failed-error';
import type { GraphNode } from './graph-node';
import type { GraphSummary } from './graph-state';

/** Why the whole graph stops early: a `failFast` failure, or a cancel of the graph. */
export interface GraphStop {
  status: 'failed' | 'cancelled';
  reason: string;
}

/** What a node's end does to the rest of the graph (the orchestrator carries it out). */
export type NodeConsequence =
  /** Nothing beyond the node: a completed node's children may start. */
  | { kind: 'none' }
  /** Every node still pending or running is cancelled; every node not launched ends `cancelled`. */
  | { kind: 'stop'; stop: GraphStop }
  /** These nodes, not launched, end `cancelled` with the reason; the rest goes on. */
  | { kind: 'cancel'; nodes: GraphNode[]; reason: string };

/**
 * The failure policies: what the end of `node` (its state final) does to the graph.
 * A failure under `failFast` stops the graph; under `continue` it cancels the nodes
 * that depend on it, transitively. A cancelled node cancels its dependents the same way.
 */
export function consequenceOf(node: GraphNode): NodeConsequence {
  if (node.state === 'failed') {
    if (node.failurePolicy === 'failFast') {
      return {
        kind: 'stop',
        stop: { status: 'failed', reason: `node "${node.id}" failed and its failure policy is failFast` },
      };
    }
    return {
      kind: 'cancel',
      nodes: waitingDependents(node),
      reason: `node "${node.id}" it depends on failed`,
    };
  }
  if (node.state === 'cancelled') {
    return { kind: 'cancel', nodes: waitingDependents(node), reason: `node "${node.id}" was cancelled` };
  }
  return { kind: 'none' };
}

/** The nodes downstream of `node` that have not been launched, nearest first. */
export function waitingDependents(node: GraphNode): GraphNode[] {
  const found: GraphNode[] = [];
  const seen = new Set<GraphNode>();
  const queue = [...node.children];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(next) || next.state !== 'waiting') continue;
    seen.add(next);
    found.push(next);
    queue.push(...next.children);
  }
  return found;
}

/** How a graph ended, once every node has. */
export interface GraphOutcome {
  status: 'completed' | 'failed' | 'cancelled';
  /** What the completed nodes returned, by id. */
  results: Record<string, unknown>;
  summary: GraphSummary;
  /** `GraphFailedError` or `CancelledError`; none when the graph completed. */
  error?: Error;
}

/**
 * The graph's own outcome: `cancelled` when it was cancelled, else `failed` when a node
 * failed, else `cancelled` when a node was cancelled by hand, else `completed`.
 */
export function graphOutcome(
  graph: string,
  nodes: readonly GraphNode[],
  stop: GraphStop | undefined,
): GraphOutcome {
  const results: Record<string, unknown> = {};
  const failures: GraphNodeFailure[] = [];
  const summary: GraphSummary = { status: 'completed', nodes: {} };
  for (const node of nodes) {
    summary.nodes[node.id] = { key: node.key, status: node.state as ComputationStatus };
    if (node.state === 'completed') results[node.id] = node.value;
    else failures.push({ node: node.id, key: node.key, status: node.state as 'failed', error: node.error });
  }
  const status =
    stop?.status === 'cancelled'
      ? 'cancelled'
      : failures.some((failure) => failure.status === 'failed')
        ? 'failed'
        : failures.length > 0
          ? 'cancelled'
          : 'completed';
  summary.status = status;
  if (status === 'completed') return { status, results, summary };
  const error =
    status === 'failed'
      ? new GraphFailedError({ graph, failures, results })
      : new CancelledError({
          key: graph,
          reason:
            stop?.reason ?? `node(s) ${failures.map((failure) => `"${failure.node}"`).join(', ')} cancelled`,
        });
  return { status, results, summary, error };
}
